/** rotor.yaml's daemon parts — schedule, window, remind, serve, notify — and the step-timeout rules. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { dueAt, inWindow, nextWindowOpen, startAt, toWindow } from '../../src/schedule/policy.js';

const load = (yaml: string) => parseConfig(yaml, '/etc/rotor/rotor.yaml', {});
const problems = (yaml: string) => {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
};
const at = (iso: string) => Date.parse(iso);

describe('schedule policy', () => {
  it('interval after the current version, the next cron occurrence after it, now when never rotated, undefined without either', () => {
    expect(dueAt({ intervalMs: 60_000 }, at('2026-12-01T00:00:00Z'))).toBe(at('2026-12-01T00:01:00Z'));
    expect(dueAt({ intervalMs: undefined, schedule: '0 3 * * 1' }, at('2026-12-01T00:00:00Z'))).toBe(at('2026-12-07T03:00:00Z'));
    expect(dueAt({ intervalMs: 60_000 }, null)).toBe(0);
    expect(dueAt({ intervalMs: undefined }, at('2026-12-01T00:00:00Z'))).toBeUndefined();
  });

  it('a window holds a due rotation until it opens, also across midnight', () => {
    const w = toWindow({ days: ['tue', 'wed'], from: '02:00', to: '05:00' });
    expect(inWindow(w, at('2026-12-01T03:00:00Z'))).toBe(true); // a Tuesday
    expect(inWindow(w, at('2026-12-01T05:00:00Z'))).toBe(false);
    expect(inWindow(w, at('2026-12-03T03:00:00Z'))).toBe(false); // Thursday
    expect(nextWindowOpen(w, at('2026-12-02T06:00:00Z'))).toBe(at('2026-12-08T02:00:00Z'));
    const night = toWindow({ days: ['sat'], from: '22:00', to: '02:00' });
    expect(inWindow(night, at('2026-12-05T23:00:00Z'))).toBe(true); // Saturday evening
    expect(inWindow(night, at('2026-12-06T01:00:00Z'))).toBe(true); // its Sunday morning
    expect(inWindow(night, at('2026-12-06T23:00:00Z'))).toBe(false);
    // Due long ago, asked now: the next window from now, not from the due time.
    expect(startAt({ intervalMs: 1000, window: w }, at('2026-11-01T00:00:00Z'), at('2026-12-02T06:00:00Z'))).toBe(at('2026-12-08T02:00:00Z'));
  });
});

describe('config: the daemon', () => {
  it('normalizes schedule, window, remind, serve and notify', () => {
    const { config } = load(`version: 1
serve: { listen: "0.0.0.0:9000", tls: { cert: tls/c.pem, key: tls/k.pem }, tick: 2s, retry: { initial: 5s, max: 1m } }
notify:
  hook: { type: webhook, url: "https://hooks.example.com/rotor", secret: "0123456789abcdef0123", events: [rotation.failed] }
secrets:
  - { id: a, type: random, schedule: "0 3 * * 1", window: { days: [tue], from: "02:00", to: "05:00" }, remind: 14d }
`);
    expect(config.serve).toEqual({ host: '0.0.0.0', port: 9000, tls: { cert: '/etc/rotor/tls/c.pem', key: '/etc/rotor/tls/k.pem' }, metricsToken: false, tickMs: 2000, retry: { initialMs: 5000, maxMs: 60_000 }, shutdownTimeoutMs: 30_000 });
    expect(config.secrets[0]).toMatchObject({ schedule: '0 3 * * 1', window: { days: [2], fromMin: 120, toMin: 300 }, remindMs: 14 * 86_400_000 });
    expect(config.notify.hook).toMatchObject({ type: 'webhook', events: ['rotation.failed'] });
    expect(load('version: 1\n').config.serve).toMatchObject({ host: '127.0.0.1', port: 8200 });
  });

  it('refuses bad cron, windows, listen addresses, notifiers and events, all at once', () => {
    const found = problems(`version: 1
serve: { listen: "localhost:99999" }
notify:
  x: { type: carrier-pigeon, events: [rotation.failed] }
  y: { type: webhook, url: "https://h.example.com", secret: "0123456789abcdef", events: [rotation.exploded] }
secrets:
  - { id: a, type: random, schedule: "every tuesday" }
  - { id: b, type: random, window: { days: [funday], from: "25:00", to: "05:00" } }
`);
    expect(found.join('\n')).toMatch(/serve\.listen: the port must be at most 65535/);
    expect(found.join('\n')).toMatch(/notify\.x/);
    expect(found.join('\n')).toMatch(/notify\.y\.events\.0/);
    expect(found.join('\n')).toMatch(/secrets\.0\.schedule: not a cron expression/);
    expect(found.join('\n')).toMatch(/secrets\.1\.window\.days\.0/);
    expect(found.join('\n')).toMatch(/secrets\.1\.window\.from: HH:MM/);
  });
});

describe('config: step timeouts', () => {
  const pg = (extra: string) => `version: 1
targets: { db: { type: postgres, url: "postgres://admin:pw@127.0.0.1:5432/postgres" } }
secrets:
  - { id: db/app, type: postgres-password, target: db, username: app, strategy: alternating, ${extra} }
`;
  it('refuses an explicit timeout that ends before the rotator\'s own wait (a drain) and one a timer cannot hold', () => {
    expect(problems(pg('drain: { timeout: 15m }, timeouts: { retire: 10m }'))).toEqual([
      expect.stringMatching(/^secrets\.0\.timeouts\.retire: timeouts\.retire \(10m\) must be longer than what db\/app itself waits in that step \(15m/),
    ]);
    expect(problems(pg('timeouts: { apply: 25d }'))).toEqual(['secrets.0.timeouts.apply: a timeout must be at most 24d']);
    expect(() => load(pg('drain: { timeout: 15m }, timeouts: { retire: 16m }'))).not.toThrow();
  });

  it('names the kinds when a store type, reload or health step is of no known kind', () => {
    const found = problems(`version: 1
stores: { out: { type: env-fil, path: .env } }
consumers:
  api: { reload: [{ comand: "true" }], health: [{ htp: "http://x" }] }
`).join('\n');
    expect(found).toMatch(/stores\.out: `type` must be a version store \(local, aws-secrets-manager\) or a delivery target \(env-file, json, yaml, kubernetes, aws-secrets-manager\)/);
    expect(found).toMatch(/consumers\.api\.reload\.0: a reload step names one kind: \{ command: … \}/);
    expect(found).toMatch(/consumers\.api\.health\.0: a health step names one kind: \{ http: … \}/);
  });
});
