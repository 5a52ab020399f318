/**
 * A private Prometheus scraping a private `rotor serve`, with deploy/prometheus/rotor-rules.yaml
 * loaded: `rotor_secret_age_seconds` arrives through the query API, and SecretRotationOverdue
 * fires for a secret whose rotation keeps failing (interval 1s, a consumer health check that
 * fails once the file `broken` exists) and not for a healthy one.
 *
 * The rules are loaded from a copy in which SecretRotationOverdue's `for: 5m` is `for: 0s`,
 * so the test does not wait five minutes; everything else is the shipped file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/daemon.js';
import { Sandbox } from '../helpers/sandbox.js';
import { startPrometheus, type PrometheusServer } from '../helpers/servers/prometheus.js';

const RULES = resolve(import.meta.dirname, '../../deploy/prometheus/rotor-rules.yaml');
const HEALTH = `["${process.execPath}", "-e", "process.exit(require('fs').existsSync('broken') ? 1 : 0)"]`;

let sb: Sandbox;
let d: ServeProcess | undefined;
let prom: PrometheusServer | undefined;

beforeAll(async () => {
  sb = new Sandbox(`version: 1
serve: { tick: 200ms, retry: { initial: 1s, max: 2s } }
consumers:
  flaky:
    health: [{ command: ${HEALTH}, timeout: 5s, retries: 0 }]
secrets:
  - { id: app/overdue, type: random, length: 32, interval: 1s, grace: 1h, consumers: [flaky], priority: high }
  - { id: app/fine, type: random, length: 32, grace: 1h }
  - { id: app/never, type: random, length: 32, interval: 1h, grace: 1h, consumers: [flaky] }
`);
  await sb.ok(['init']);
  await sb.ok(['rotate', 'app/overdue', 'app/fine']);
  sb.write('broken', '');
  const shipped = readFileSync(RULES, 'utf8');
  const fast = shipped.replace(/(- alert: SecretRotationOverdue\n(?:.*\n)*?\s+)for: 5m/, '$1for: 0s');
  expect(fast).not.toBe(shipped);
  writeFileSync(sb.path('rules.yaml'), fast);
  d = await startServe(sb);
  prom = await startPrometheus({ jobs: [{ name: 'rotor', targets: [`127.0.0.1:${d.port}`] }], ruleFiles: [sb.path('rules.yaml')] });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await d?.stop();
  sb?.remove();
});

describe('Prometheus scraping rotor serve', () => {
  it('rotor_secret_age_seconds arrives with secret, type and priority labels', async () => {
    const r = await prom!.waitFor('rotor_secret_age_seconds{job="rotor"}', (rs) => rs.length >= 2);
    const fine = r.find((s) => s.metric.secret === 'app/fine')!;
    expect(fine.metric).toMatchObject({ type: 'random', priority: 'medium' });
    expect(Number(fine.value[1])).toBeGreaterThan(0);
    // The recording rule too.
    await prom!.waitFor('secret_age_days{secret="app/fine"}', (rs) => rs.length === 1);
  }, 40_000);

  it('SecretRotationOverdue fires for the secret whose rotation keeps failing, with its type and priority, and not for the healthy one', async () => {
    await d!.waitFor((l) => l.event === 'schedule.backoff' && l.secret === 'app/overdue', 20_000);
    const firing = await prom!.waitFor('ALERTS{alertname="SecretRotationOverdue", alertstate="firing"}', (rs) => rs.some((s) => s.metric.secret === 'app/overdue'), 40_000);
    const overdue = firing.find((s) => s.metric.secret === 'app/overdue')!;
    expect(overdue.metric).toMatchObject({ type: 'random', priority: 'high', severity: 'warning' });
    expect(firing.map((s) => s.metric.secret)).not.toContain('app/fine');
  }, 60_000);

  // A secret whose first rotation never succeeded has no rotor_secret_age_seconds series, and
  // the alert joins on it for type and priority: so it never fires, though the secret is due
  // (rotor_secret_due_timestamp_seconds is 0) and every attempt fails. See the report.
  it('SecretRotationOverdue also fires for a secret that was never rotated and whose first rotation keeps failing', async () => {
    // 0 between attempts. A scrape in the middle of an attempt (after its promote, before the
    // failed health check rolls it back) sees a current version for a moment, and a due time
    // an interval away: so wait for a scrape between attempts, not the first one.
    const due = await prom!.waitFor('rotor_secret_due_timestamp_seconds{secret="app/never"}', (rs) => rs.length === 1 && Number(rs[0]!.value[1]) === 0, 15_000);
    expect(Number(due[0]!.value[1])).toBe(0);
    await prom!.waitFor('ALERTS{alertname="SecretRotationOverdue", secret="app/never", alertstate="firing"}', (rs) => rs.length === 1, 8_000);
  }, 30_000);
});
