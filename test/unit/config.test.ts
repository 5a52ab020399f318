import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { ConfigError } from '../../src/errors.js';

const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfig(yaml, '/etc/rotor/rotor.yaml', env);
const problems = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    load(yaml, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('durations', () => {
  it.each([['30s', 30_000], ['15m', 900_000], ['24h', 86_400_000], ['90d', 7_776_000_000], ['2w', 1_209_600_000], ['0', 0]])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['90days', '1.5h', '-1h', 'h', ''])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
  it('formats the shortest exact unit', () => {
    expect(formatDuration(5_400_000)).toBe('90m');
    expect(formatDuration(86_400_000)).toBe('1d');
  });
});

describe('config', () => {
  it('normalizes: defaults, durations in ms, paths against the config directory', () => {
    const { config } = load('version: 1\nsecrets:\n  - { id: a/b, type: random, interval: 90d }\n');
    expect(config.state).toEqual({ driver: 'sqlite', path: '/etc/rotor/.rotor/state.db' });
    expect(config.stores.local).toEqual({ type: 'local', path: '/etc/rotor/.rotor/vault' });
    expect(config.secrets[0]).toMatchObject({ id: 'a/b', graceMs: 3_600_000, intervalMs: 7_776_000_000, priority: 'medium', spec: { length: 32, encoding: 'base64url' } });
  });

  it('interpolates ${VAR} in values, keeps $${ literal, and never prints the value', () => {
    const { config } = load('version: 1\nstate: { driver: sqlite, path: "${DIR}/s.db" }\nsecrets:\n  - { id: a, type: random, description: "$${NOT}" }\n', { DIR: '/var/lib/rotor' });
    expect(config.state).toEqual({ driver: 'sqlite', path: '/var/lib/rotor/s.db' });
    expect(config.secrets[0]!.description).toBe('${NOT}');
  });

  it('takes `state` from the state drivers: an unknown driver names the known ones', () => {
    const ps = problems('version: 1\nstate: { driver: etcd }\n');
    expect(ps).toMatchObject([{ line: 2, path: 'state.driver', message: 'must be one of "sqlite"' }]);
  });

  it('reports every problem at once, each with its line', () => {
    const ps = problems('version: 1\nsecrets:\n  - { id: A, type: random }\n  - { id: b, type: random, grace: later }\n  - { id: c, type: what }\n');
    expect(ps.map((p) => p.line)).toEqual([3, 4, 5]);
    expect(ps[0]!.message).toMatch(/lower-case path segments/);
  });

  it('warns when grace is not shorter than interval', () => {
    const { warnings } = load('version: 1\nsecrets:\n  - { id: a, type: random, interval: 1h, grace: 2h }\n');
    expect(warnings[0]).toMatchObject({ line: 3 });
    expect(warnings[0]!.message).toMatch(/grace is not shorter than interval/);
  });

  it('refuses a health check body that is not a regular expression, at its line', () => {
    const ps = problems('version: 1\nconsumers:\n  api:\n    health: [{ http: "http://127.0.0.1:1/health", body: "ok(" }]\n');
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ line: 4 });
    expect(ps[0]!.message).toMatch(/not a valid regular expression/);
  });

  it('does not echo an interpolated value in a type error', () => {
    const ps = problems('version: 1\ndefaults: { concurrency: "${SECRETVAL}" }\n', { SECRETVAL: 'hunter2-super-secret' });
    expect(JSON.stringify(ps)).not.toContain('hunter2-super-secret');
  });
});

describe('config of the database and cache types', () => {
  const targets = 'targets:\n  pg: { type: postgres, url: "postgres://a:b@h/db" }\n  my: { type: mysql, url: "mysql://a:b@h/" }\n  r: { type: redis, url: "redis://a:b@h" }\n';
  const one = (secret: string) => problems(`version: 1\n${targets}secrets:\n  - ${secret}\n`);

  it('normalizes a postgres-password secret with its defaults', () => {
    const { config } = load(`version: 1\n${targets}secrets:\n  - { id: db/app, type: postgres-password, target: pg, strategy: alternating, username: app }\n`);
    expect(config.secrets[0]!.spec).toEqual({ strategy: 'alternating', username: 'app', keepOriginal: false, passwordLength: 32, drain: { timeout: '30s', onTimeout: 'hold' } });
  });

  it.each([
    ['{ id: db/a, type: postgres-password, target: pg, username: app }', /must be one of "single", "alternating", "new-user"/],
    ['{ id: db/a, type: postgres-password, target: pg, strategy: rolling, username: app }', /must be one of/],
    ['{ id: db/a, type: postgres-password, target: pg, strategy: single, username: "app; DROP" }', /a letter or _ first/],
    ['{ id: db/a, type: postgres-password, target: r, strategy: single, username: app }', /target "r" is a redis server; type postgres-password needs a postgres target/],
    ['{ id: db/a, type: postgres-password, strategy: single, username: app }', /needs `target`: the name of a postgres entry/],
    ['{ id: db/a, type: postgres-password, target: pg, strategy: single, username: app, drain: { timeout: soon } }', /not a duration/],
    ['{ id: db/a, type: mysql-password, target: my, strategy: single, username: a_very_long_account_name_xx }', /at most 26 characters/],
    ['{ id: db/a, type: redis-acl, target: r, strategy: requirepass, username: app }', /requirepass rotates the `default` user/],
    ['{ id: db/a, type: redis-acl, target: r, strategy: dual-password }', /dual-password needs `username`/],
    ['{ id: db/a, type: redis-acl, target: r, strategy: dual-password, username: u, rules: "~* nopass" }', /password rules .* are managed by Rotor/],
  ])('refuses %s', (secret, message) => {
    const ps = one(secret);
    expect(ps.map((p) => p.message).join('\n')).toMatch(message);
    expect(ps[0]!.line).toBe(7);
  });
});
