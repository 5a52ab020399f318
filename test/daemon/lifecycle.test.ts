/**
 * The life of a real `rotor serve` against a real PostgreSQL: killed (SIGKILL through
 * ROTOR_CRASH_AT) in the middle of a scheduled rotation and restarted, it resumes and the
 * invariant holds at the server; SIGTERM (once or twice) mid-rotation exits 0 and leaves the
 * rotation finished or journaled; SIGHUP reloads a good rotor.yaml, refuses a bad one and
 * survives a storm; a secret removed while it rotates; two daemons racing for one state.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/daemon.js';
import { BIN, Sandbox } from '../helpers/sandbox.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { pgAccepts } from '../helpers/logins.js';
import { storedValues } from '../helpers/db-history.js';
import { exists, expectCleanLogs, storedSecretValues, until } from './checks.js';

let postgres: PostgresServer;
let admin: pg.Client;
const sandboxes: Sandbox[] = [];
const daemons: ServeProcess[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  admin = new pg.Client({ connectionString: postgres.url });
  admin.on('error', () => {});
  await admin.connect();
}, 90_000);
afterEach(() => {
  for (const d of daemons.splice(0)) d.signal('SIGKILL');
});
afterAll(async () => {
  await admin?.end();
  await postgres?.stop();
  for (const sb of sandboxes) sb.remove();
});

async function serve(sb: Sandbox, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const d = await startServe(sb, { env });
  daemons.push(d);
  return d;
}

let logins = 0;
/** A fresh NOLOGIN role for an `alternating` secret, and a sandbox whose rotor.yaml manages it. */
async function pgSandbox(opts: { interval: string; consumer?: string; extra?: string; serve?: string; grace?: string }): Promise<{ sb: Sandbox; login: string; config: (o: { interval: string; extra?: string }) => string }> {
  const login = `dmn_${process.pid}_${++logins}`;
  await admin.query(`CREATE ROLE ${login} NOLOGIN`);
  const config = (o: { interval: string; extra?: string }) => `version: 1
serve: ${opts.serve ?? '{ tick: 100ms }'}
targets:
  main: { type: postgres, url: "\${ADMIN_URL}" }
stores:
  app-env: { type: env-file, path: ./app.env }
consumers:
  app:
    deliver: [{ store: app-env, key: DB_PASSWORD, field: password }]
${opts.consumer ?? ''}
secrets:
  - { id: db/app, type: postgres-password, target: main, strategy: alternating, username: ${login}, interval: ${o.interval}, grace: ${opts.grace ?? '1h'}, consumers: [app] }
${o.extra ?? ''}`;
  const sb = new Sandbox(config(opts));
  sandboxes.push(sb);
  sb.baseEnv.ADMIN_URL = postgres.url;
  await sb.ok(['init']);
  return { sb, login, config };
}

/**
 * The invariant at the server: one current value and it logs in; every role of the login
 * that can log in is explained by a stored value that logs in (PostgreSQL keeps one
 * password per role).
 */
async function expectInvariantAtServer(sb: Sandbox, login: string, when: string) {
  const stored = await storedValues(sb, 'db/app');
  const current = stored.filter((v) => v.stage === 'current');
  expect(current, `${when}: one current`).toHaveLength(1);
  expect(await pgAccepts(current[0]!.value), `${when}: current logs in`).toBe(true);
  const { rows } = await admin.query<{ rolname: string }>(
    'SELECT rolname FROM pg_authid WHERE rolname = ANY($1) AND rolcanlogin AND rolpassword IS NOT NULL', [[login, `${login}_clone`]]);
  for (const { rolname } of rows) {
    let explained = false;
    for (const v of stored.filter((s) => s.value.username === rolname)) if (await pgAccepts(v.value)) explained = true;
    expect(explained, `${when}: ${rolname} logs in with a password the store does not hold`).toBe(true);
  }
  return { stored, current: current[0]!.value };
}

interface HistoryJson {
  versions: { version: number; stage: string }[];
  rotations: { id: string; status: string; trigger: string }[];
}

async function expectSettled(sb: Sandbox, login: string, when: string) {
  const { current, stored } = await expectInvariantAtServer(sb, login, when);
  const h = await sb.json<HistoryJson>(['history', 'db/app']);
  expect(h.versions.filter((v) => v.stage === 'pending'), `${when}: nothing pending`).toEqual([]);
  expect(h.rotations.filter((r) => ['running', 'rolling-back'].includes(r.status)), `${when}: nothing open`).toEqual([]);
  // The consumer holds the current password.
  expect(readFileSync(sb.path('app.env'), 'utf8')).toContain(`DB_PASSWORD=${current.password}`);
  await sb.ok(['audit', 'verify']);
  return { ...h, values: stored.map((v) => v.value.password) };
}

describe('kill -9 during a scheduled rotation, then restart', () => {
  it.each(['apply:after', 'promote:before', 'propagate:after'])('%s: the daemon dies, the next start resumes it, the invariant holds', async (boundary) => {
    const { sb, login, config } = await pgSandbox({ interval: '1s' });
    await sb.ok(['rotate', 'db/app', '--no-grace']);
    const d1 = await serve(sb, { ROTOR_CRASH_AT: boundary });
    await d1.waitFor((l) => l.event === 'schedule.rotate');
    const dead = await d1.exited;
    expect(dead.signal, d1.output()).toBe('SIGKILL');
    await expectInvariantAtServer(sb, login, 'after the crash');

    // Restarted without the crash, with nothing else due: it resumes what the crash left open.
    sb.write('rotor.yaml', config({ interval: '1h' }));
    const d2 = await serve(sb);
    const resumed = await d2.waitFor((l) => l.event === 'daemon.resumed');
    expect(resumed.rotations).toBe(1);
    expect(resumed.outcomes).toEqual([{ secret: 'db/app', status: expect.stringMatching(/^(grace|succeeded|rolled-back)$/) }]);
    await d2.stop();
    const h = await expectSettled(sb, login, 'after the resume');
    expect(h.rotations.map((r) => r.trigger)).toEqual(['manual', 'schedule']);
    expectCleanLogs(d2, h.values);
    expectCleanLogs(d1, h.values);
  });

  it('retire:after (the old password revoked, not yet recorded): the next start finishes the retire', async () => {
    const { sb, login } = await pgSandbox({ interval: '1h', grace: '1s' });
    await sb.ok(['rotate', 'db/app', '--no-grace']);
    await sb.ok(['rotate', 'db/app']); // v2 current, v1 previous for 1s
    const d1 = await serve(sb, { ROTOR_CRASH_AT: 'retire:after' });
    expect((await d1.exited).signal, d1.output()).toBe('SIGKILL');
    await expectInvariantAtServer(sb, login, 'after the crash');
    const d2 = await serve(sb);
    const resumed = await d2.waitFor((l) => l.event === 'daemon.resumed');
    expect(resumed.outcomes).toEqual([{ secret: 'db/app', status: 'succeeded' }]);
    await d2.stop();
    const { stored } = await expectInvariantAtServer(sb, login, 'after the resume');
    expect(stored.map((v) => v.stage)).toEqual(['retired', 'current']);
    expect(await pgAccepts(stored[0]!.value), 'v1 revoked').toBe(false);
    await expectSettled(sb, login, 'after the resume');
  });

  it('a CLI `rotor rotate` while the daemon is dead does not break the invariant; the restart settles everything', async () => {
    const { sb, login, config } = await pgSandbox({ interval: '1s' });
    await sb.ok(['rotate', 'db/app', '--no-grace']);
    const d1 = await serve(sb, { ROTOR_CRASH_AT: 'apply:after' });
    expect((await d1.exited).signal).toBe('SIGKILL');
    sb.write('rotor.yaml', config({ interval: '1h' }));
    // The careless operator: rotates by hand before anyone resumed.
    const cli = await sb.run(['rotate', 'db/app']);
    // Refused, touching nothing: the interrupted rotation is named, with what to do.
    expect(cli.code, cli.stdout + cli.stderr).toBe(2);
    expect(cli.stdout).toMatch(/BUSY\s+db\/app\s+rotation r-\S+ of db\/app was interrupted \(running at apply\)/);
    expect(cli.stdout).toMatch(/rotor resume/);
    await expectInvariantAtServer(sb, login, 'after the CLI rotate');
    const d2 = await serve(sb);
    await d2.stop();
    await expectSettled(sb, login, 'after the restart');
  });
});

describe('kill -9, then the target is down at the restart', () => {
  it('the daemon still starts and runs the other secrets; `rotor resume` beside it settles the rotation once the target is back', async () => {
    const { sb, login, config } = await pgSandbox({ interval: '1s' });
    await sb.ok(['rotate', 'db/app', '--no-grace']);
    const d1 = await serve(sb, { ROTOR_CRASH_AT: 'apply:after' });
    expect((await d1.exited).signal).toBe('SIGKILL');
    sb.write('rotor.yaml', config({ interval: '1h', extra: '  - { id: app/ticker, type: random, interval: 1s, grace: 100ms }' }));
    await postgres.halt();
    let d2: ServeProcess;
    try {
      // SIGTERM while the start is still resuming (the target does not answer): exit 0, nothing scheduled.
      const early = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0'], { cwd: sb.dir, env: sb.env() });
      let out = '';
      early.stdout.on('data', (b: Buffer) => (out += b));
      early.stderr.on('data', (b: Buffer) => (out += b));
      const closed = new Promise<[number | null, NodeJS.Signals | null]>((r) => early.on('close', (c, sig) => r([c, sig])));
      await until(() => out.includes('"daemon.starting"'), 20_000, 'daemon.starting');
      early.kill('SIGTERM');
      expect(await closed, out).toEqual([0, null]);
      expect(out).not.toMatch(/"event":"(schedule\.rotate|rotation\.finished)"[^\n]*app\/ticker/);
      expect(out).toMatch(/"event":"daemon\.stopped"/);
      d2 = await serve(sb);
      // Resume could not reach the target: it says so (needs attention), and the daemon runs on.
      const resumed = await d2.waitFor((l) => l.event === 'daemon.resumed');
      expect(resumed.outcomes).toEqual([{ secret: 'db/app', status: 'failed' }]);
      await d2.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker' && l.version === 2, 20_000);
    } finally {
      await postgres.resume();
      await admin.end().catch(() => {});
      admin = new pg.Client({ connectionString: postgres.url });
      admin.on('error', () => {});
      await admin.connect();
    }
    await expectInvariantAtServer(sb, login, 'target back, rotation still open');
    // The daemon does not retry the resume by itself (see the report); the operator's `rotor resume` beside it does.
    const r = await sb.run(['resume']);
    expect(r.code, r.stdout + r.stderr).toBe(1); // rolled back cleanly
    expect(r.stdout).toMatch(/ROLLED BACK db\/app/);
    await d2.stop();
    await expectSettled(sb, login, 'after rotor resume');
  });
});

describe('SIGTERM mid-rotation', () => {
  it('twice (then SIGHUP and SIGINT while stopping), while a consumer reloads: the reload finishes, exit 0, the rotation is finished or journaled, the next start resumes it', async () => {
    const { sb, login, config } = await pgSandbox({
      interval: '1h',
      consumer: `    reload: [{ command: [sh, -c, 'touch reloading; sleep 3; echo done >> reloads'] }]`,
    });
    const d1 = await serve(sb);
    await d1.waitFor((l) => l.event === 'schedule.rotate');
    await until(exists(sb.path('reloading')), 20_000, 'the reload to start');
    const t0 = Date.now();
    d1.signal('SIGTERM');
    d1.signal('SIGTERM');
    // A careless operator reloads while it stops: ignored, not Node's default (death by SIGHUP).
    await d1.waitFor((l) => l.event === 'daemon.stopping');
    d1.signal('SIGHUP');
    d1.signal('SIGINT');
    const r = await d1.exited;
    expect(r.code, d1.output()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(readFileSync(sb.path('reloads'), 'utf8')).toBe('done\n');
    expect(d1.all((l) => l.event === 'daemon.stopping')).toHaveLength(1);
    await d1.waitFor((l) => l.event === 'daemon.stopped');
    await expectInvariantAtServer(sb, login, 'after SIGTERM');

    sb.write('rotor.yaml', config({ interval: '1h' }));
    const d2 = await serve(sb);
    await d2.stop();
    const h = await expectSettled(sb, login, 'after the restart');
    expect(h.rotations.map((x) => x.status)).toEqual(['grace']);
    expectCleanLogs(d1, h.values);
    expectCleanLogs(d2, h.values);
  });

  it('a reload longer than serve.shutdownTimeout: still exits 0 within the bound, and the next start resumes', async () => {
    const { sb, login } = await pgSandbox({
      interval: '1h',
      serve: '{ tick: 100ms, shutdownTimeout: 1s }',
      consumer: `    reload: [{ command: [sh, -c, 'touch reloading; sleep 4; echo done >> reloads'] }]`,
    });
    const d1 = await serve(sb);
    await until(exists(sb.path('reloading')), 20_000, 'the reload to start');
    const t0 = Date.now();
    d1.signal('SIGTERM');
    const r = await d1.exited;
    expect(r.code, d1.output()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3_500);
    await d1.waitFor((l) => l.event === 'daemon.stop-timeout');
    const d2 = await serve(sb);
    await d2.waitFor((l) => l.event === 'daemon.resumed');
    await d2.stop();
    await expectSettled(sb, login, 'after the restart');
  });
});

describe('SIGHUP', () => {
  const ticker = '  - { id: app/ticker, type: random, interval: 1s, grace: 100ms }';

  it('a bad rotor.yaml is refused with its problem and the running config kept; a good one adds a secret that starts rotating; a storm leaves one sound daemon', async () => {
    const { sb, config } = await pgSandbox({ interval: '1h', extra: ticker });
    const d = await serve(sb);
    await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'db/app');
    await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker' && l.version === 1);

    // Bad: an unknown type; the line names the file and the problem.
    sb.write('rotor.yaml', config({ interval: '1h', extra: `${ticker}\n  - { id: app/new, type: no-such-type }` }));
    d.signal('SIGHUP');
    const refused = await d.waitFor((l) => l.event === 'config.refused');
    expect(refused.level).toBe('error');
    expect(JSON.stringify(refused)).toMatch(/rotor\.yaml/);
    expect(JSON.stringify(refused)).toMatch(/no-such-type/);
    // The old config runs on: the ticker goes on rotating.
    const n = d.all((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker').length;
    await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker' && (l.version as number) >= n + 2, 15_000);

    // Good: a secret added starts rotating.
    sb.write('rotor.yaml', config({ interval: '1h', extra: `${ticker}\n  - { id: app/new, type: random }` }));
    d.signal('SIGHUP');
    await d.waitFor((l) => l.event === 'config.reloaded' && l.secrets === 3);
    await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/new' && l.status === 'grace', 15_000);

    // A storm: 25 SIGHUPs at once. One daemon still runs the schedule, holds the state, and stops cleanly.
    for (let i = 0; i < 25; i++) d.signal('SIGHUP');
    await until(() => d.all((l) => l.event === 'config.reloaded').length >= 2, 20_000, 'a reload after the storm');
    const m = d.all((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker').length;
    await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker' && (l.version as number) >= m + 2, 20_000);
    const health = await d.fetch('/readyz');
    expect(health.status).toBe(200);
    const second = await sb.run(['serve', '--listen', '127.0.0.1:0']);
    expect(second.code, second.stderr).toBe(2);
    expect(second.stderr).toMatch(/already runs on this state/);
    await d.stop();
    expect(d.all((l) => ['scheduler.error', 'schedule.error', 'daemon.stop-failed'].includes(l.event ?? ''))).toEqual([]);
    expectCleanLogs(d, await storedSecretValues(sb, ['db/app', 'app/ticker', 'app/new']));
  });

  it('a secret removed while it rotates: the running batch finishes, the daemon goes on without it', async () => {
    const { sb, login, config } = await pgSandbox({
      interval: '1h',
      extra: ticker,
      consumer: `    reload: [{ command: [sh, -c, 'touch reloading; sleep 2'] }]`,
    });
    const d = await serve(sb);
    await until(exists(sb.path('reloading')), 20_000, 'the reload to start');
    // rotor.yaml without db/app (and without its consumer's target): reloaded while db/app rotates.
    sb.write('rotor.yaml', `version: 1\nserve: { tick: 100ms }\nsecrets:\n${ticker}\n`);
    d.signal('SIGHUP');
    await d.waitFor((l) => l.event === 'config.reloaded' && l.secrets === 1);
    const done = await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'db/app', 20_000);
    expect(done.status).toBe('grace');
    const n = d.all((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker').length;
    await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/ticker' && (l.version as number) >= n + 2, 15_000);
    await d.stop();
    expect(d.all((l) => ['scheduler.error', 'schedule.error', 'retire.error'].includes(l.event ?? ''))).toEqual([]);
    sb.write('rotor.yaml', config({ interval: '1h', extra: ticker }));
    const { values } = await expectSettled(sb, login, 'after the removal');
    expectCleanLogs(d, values);
  });
});

describe('signals at the first instant', () => {
  it('SIGTERM or a SIGHUP storm the moment daemon.ready is logged: no default action kills it; SIGTERM exits 0', async () => {
    const sb = new Sandbox('version: 1\nserve: { tick: 100ms }\nsecrets:\n  - { id: app/key, type: random, interval: 1h }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    for (let round = 0; round < 4; round++) {
      const d = await serve(sb);
      if (round % 2) for (let i = 0; i < 10; i++) d.signal('SIGHUP');
      d.signal('SIGTERM');
      const r = await d.exited;
      expect(r, d.output()).toEqual({ code: 0, signal: null });
    }
  });
});

describe('a port already taken', () => {
  it('is refused with exit 2 and a clear message, not an unexpected error; the state is left free', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: app/key, type: random, interval: 1h }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    const d = await serve(sb);
    const other = new Sandbox('version: 1\nsecrets: []\n');
    sandboxes.push(other);
    await other.ok(['init']);
    const r = await other.run(['serve', '--listen', `127.0.0.1:${d.port}`]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);
    expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
    await d.stop();
    // Its daemon lock went with it: the next serve on that state starts.
    const again = await serve(other);
    await again.stop();
  });
});

describe('two daemons racing for one state', () => {
  it('started at the same instant: exactly one runs, the other is refused with exit 2', async () => {
    const sb = new Sandbox('version: 1\nserve: { tick: 100ms }\nsecrets:\n  - { id: app/key, type: random, interval: 1h }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    for (let round = 0; round < 2; round++) {
      const both = await Promise.allSettled([startServe(sb), startServe(sb)]);
      const up = both.filter((r): r is PromiseFulfilledResult<ServeProcess> => r.status === 'fulfilled').map((r) => r.value);
      daemons.push(...up);
      const refused = both.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(up, `round ${round}`).toHaveLength(1);
      expect(String(refused[0]!.reason)).toMatch(/exited \(2\)[\s\S]*already runs on this state/);
      await up[0]!.stop();
    }
    const h = await sb.json<HistoryJson>(['history', 'app/key']);
    expect(h.versions).toHaveLength(1);
  });
});
