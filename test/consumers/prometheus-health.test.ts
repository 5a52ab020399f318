/**
 * The `prometheus` health kind against a real private Prometheus that scrapes, every
 * second, a tiny exporter this test runs (`auth_failures_total{service="event-service"}`):
 * - while the counter is flat the step watches its whole window and passes;
 * - while it rises the step fails at once — well inside its window — naming the series;
 * - an unreachable Prometheus, a URL that is not Prometheus, a refused (bad) PromQL and a
 *   scalar query each fail with a message that says which;
 * - the config refuses retries on it and a window over an hour.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { HealthStep } from '../../src/config/schema.js';
import { health } from '../../src/consumers/actions.js';
import { Sandbox } from '../helpers/sandbox.js';
import { freePort } from '../helpers/servers/common.js';
import { startPrometheus, type PrometheusServer } from '../helpers/servers/prometheus.js';

let exporter: Server;
let exporterPort: number;
let failures = 0;
let lastAuthorization: string | undefined;
let prom: PrometheusServer;

beforeAll(async () => {
  exporterPort = await freePort();
  exporter = createServer((req, res) => {
    lastAuthorization = req.headers.authorization;
    if (req.url !== '/metrics') return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE auth_failures_total counter\nauth_failures_total{service="event-service"} ${failures}\n`);
  });
  await new Promise<void>((r) => exporter.listen(exporterPort, '127.0.0.1', () => r()));
  prom = await startPrometheus({ jobs: [{ name: 'event-service', targets: [`127.0.0.1:${exporterPort}`] }] });
  // rate() over [3s] needs samples to work on.
  await prom.waitFor('count_over_time(auth_failures_total[5s]) >= 3', (r) => r.length === 1);
});

afterAll(async () => {
  await prom?.stop();
  exporter?.closeAllConnections();
  await new Promise((r) => exporter?.close(r));
});

const RISING = 'rate(auth_failures_total{service="event-service"}[3s]) > 10';
const input = { stdin: '', env: {}, redact: (t: string) => t };

/** A consumer with one prometheus health step, through the real config loader. */
function step(fields: string, extra = ''): HealthStep {
  const { config } = parseConfig(`version: 1
consumers:
  event-service:
    health:
      - prometheus: { ${fields} }
        ${extra}
secrets:
  - { id: s, type: random, consumers: [event-service] }
`, join(tmpdir(), 'rotor.yaml'), {});
  return config.consumers['event-service']!.health[0]!;
}

/** Runs the step as a round does; resolves to its line or to the error it failed with. */
async function check(s: HealthStep): Promise<{ ok: boolean; text: string; ms: number }> {
  const started = Date.now();
  const { config } = parseConfig('version: 1\n', join(tmpdir(), 'rotor.yaml'), {});
  try {
    return { ok: true, text: await health(config, 'event-service', s, input), ms: Date.now() - started };
  } catch (err) {
    return { ok: false, text: (err as Error).message, ms: Date.now() - started };
  }
}

describe('prometheus health against a real Prometheus', () => {
  it('passes while the counter is flat, after querying through the whole window', async () => {
    const r = await check(step(`url: "${prom.url}", query: '${RISING}', window: 4s`, 'interval: 1s'));
    expect(r).toMatchObject({ ok: true });
    expect(r.text).toMatch(/no series for rate\(auth_failures_total.* over 4s \([45] queries\)/);
    expect(r.ms).toBeGreaterThanOrEqual(4000);
  });

  it('fails at once while the counter rises, naming the series', async () => {
    const raise = setInterval(() => (failures += 50), 200);
    try {
      const r = await check(step(`url: "${prom.url}", query: '${RISING}', window: 30s`, 'interval: 1s'));
      expect(r.ok).toBe(false);
      expect(r.text).toMatch(/^consumer event-service: health check failed after 1 attempt: rate\(auth_failures_total\{service="event-service"\}\[3s\]\) > 10 returned 1 series: \{.*service="event-service".*\} [\d.]+ after \d+s of its 30s window/);
      expect(r.text).toContain(`(Prometheus at ${prom.url})`);
      expect(r.ms).toBeLessThan(15_000);
    } finally {
      clearInterval(raise);
    }
    // Flat again: once the rate window has slid past the rise, the step passes.
    await prom.waitFor(`rate(auth_failures_total[3s]) == 0`, (res) => res.length === 1);
    expect(await check(step(`url: "${prom.url}", query: '${RISING}', window: 2s`, 'interval: 1s'))).toMatchObject({ ok: true });
  });
});

describe('prometheus health when Rotor cannot tell', () => {
  it('fails clearly when Prometheus cannot be reached', async () => {
    const port = await freePort();
    const r = await check(step(`url: "http://127.0.0.1:${port}", query: up, window: 10s`));
    expect(r.ok).toBe(false);
    expect(r.text).toBe(`consumer event-service: health check failed after 1 attempt: Prometheus at http://127.0.0.1:${port} cannot be reached, so the service's health is unknown: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(r.ms).toBeLessThan(5000);
  });

  it('reports a PromQL Prometheus refuses, with its reason', async () => {
    const r = await check(step(`url: "${prom.url}", query: 'rate(auth_failures_total[1m] > 10', window: 10s`));
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(new RegExp(`Prometheus at ${prom.url} refused the query \\(400 bad_data\\): .*parse error`));
  });

  it('refuses a scalar result and an answer that is not Prometheus', async () => {
    expect((await check(step(`url: "${prom.url}", query: 'scalar(up)', window: 0s`))).text).toMatch(/the query returns a scalar, not series/);
    expect((await check(step(`url: "http://127.0.0.1:${exporterPort}", query: up, window: 0s`))).text)
      .toMatch(new RegExp(`Prometheus at http://127.0.0.1:${exporterPort} answered 404 with something other than the query API's JSON`));
  });

  it('sends credentials in the URL as basic auth and never shows them', async () => {
    const r = await check(step(`url: "http://rotor:s3cret-pw@127.0.0.1:${exporterPort}/prom", query: up, window: 0s`));
    expect(lastAuthorization).toBe(`Basic ${Buffer.from('rotor:s3cret-pw').toString('base64')}`);
    expect(r.text).toContain(`Prometheus at http://127.0.0.1:${exporterPort}/prom answered 404`);
    expect(r.text).not.toContain('s3cret-pw');
  });
});

describe('prometheus health around a rotation (rotor CLI)', () => {
  it('rolls back when the consumers fail after propagate, and holds the retire when they fail in grace', async () => {
    const sb = new Sandbox(`version: 1
consumers:
  event-service:
    deliver: [{ store: app-env, key: SECRET }]
    health:
      - prometheus: { url: "${prom.url}", query: '${RISING}', window: 2s }
        interval: 1s
stores:
  app-env: { type: env-file, path: app.env }
secrets:
  - { id: app/key, type: random, grace: 3s, consumers: [event-service] }
`);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/key']); // flat: propagate watches 2 s and passes; v1 in grace
    const graceEnds = Date.now() + 3_000; // grace counts from the end of propagate, before rotate returned
    // The service starts failing while the old value is still valid: retire must not revoke it.
    const rising = setInterval(() => (failures += 200), 200);
    try {
      await new Promise((r) => setTimeout(r, Math.max(0, graceEnds - Date.now()) + 200));
      const held = await sb.run(['retire', 'app/key']);
      expect(held.code).toBe(3);
      expect(held.stdout + held.stderr).toMatch(/before retire: consumer event-service: health check failed/);
      expect(held.stdout + held.stderr).toMatch(/rotor rollback app\/key/);
      const status = await sb.json<{ secrets: { id: string; stages: Record<string, number> }[] }>(['status']);
      expect(status.secrets[0]!.stages).toMatchObject({ current: 1 });
      // A rotation whose consumers fail after propagate rolls back.
      const rolled = await sb.run(['rotate', 'app/key', '--no-grace']);
      expect(rolled.code).toBe(1);
      expect(rolled.stdout + rolled.stderr).toMatch(/ROLLED BACK/);
    } finally {
      clearInterval(rising);
    }
    await prom.waitFor(`(${RISING}) or vector(0)`, (r) => r.length === 1 && Number(r[0]!.value[1]) === 0, 20_000);
    const retired = await sb.run(['retire', 'app/key']);
    expect(retired.code).toBe(0);
  }, 60_000);
});

describe('prometheus health config', () => {
  it('refuses retries and a window over an hour', () => {
    expect(() => step(`url: "${prom.url}", query: up`, 'retries: 2')).toThrow(/a prometheus health step takes no retries/);
    expect(() => step(`url: "${prom.url}", query: up, window: 2h`)).toThrow(/at most 1h/);
    expect(step(`url: "${prom.url}", query: up`)).toMatchObject({ prometheus: { window: '30s' }, retries: 0, interval: '5s', timeout: '10s' });
  });
});
