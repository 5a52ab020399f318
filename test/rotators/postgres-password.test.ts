/**
 * `postgres-password` against a private PostgreSQL: each strategy through rotations,
 * grace, retire and the proof that old passwords are refused; drain before retire;
 * preflight refusals; and the server's statement log searched for every password.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { pgAccepts } from '../helpers/logins.js';
import { expectServerAgrees, storedValues, type HistoryJson } from '../helpers/db-history.js';

let server: PostgresServer;
let admin: pg.Client;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  admin.on('error', () => {});
  await admin.connect();
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

function sandbox(secrets: string, extraTargets = ''): Sandbox {
  const sb = new Sandbox(`version: 1\ntargets:\n  db: { type: postgres, url: "\${PG_ADMIN_URL}" }\n${extraTargets}secrets:\n${secrets}`);
  sb.baseEnv.PG_ADMIN_URL = server.url;
  sandboxes.push(sb);
  return sb;
}

describe.each(['single', 'alternating', 'new-user'] as const)('postgres-password, %s', (strategy) => {
  const role = `app_${strategy.replace('-', '_')}`;

  it('rotates three times: each current logs in and reads what the role may read, each retired password is refused', async () => {
    await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    await admin.query(`CREATE TABLE ${role}_data (n int); INSERT INTO ${role}_data VALUES (42); GRANT SELECT ON ${role}_data TO ${role}`);
    const sb = sandbox(`  - { id: db/${role}, type: postgres-password, target: db, strategy: ${strategy}, username: ${role} }\n`);
    await sb.ok(['init']);
    const plan = (await sb.ok(['plan'])).stdout;
    expect(plan).toMatch(/PostgreSQL 1\d/);
    for (let i = 1; i <= 3; i++) {
      await sb.ok(['rotate', `db/${role}`, '--no-grace']);
      const current = await expectServerAgrees(sb, `db/${role}`, pgAccepts);
      const c = new pg.Client({ ...current, user: current.username });
      await c.connect();
      const { rows } = await c.query(`SELECT n FROM ${role}_data`);
      await c.end();
      expect(rows).toEqual([{ n: 42 }]);
    }
    const stored = await storedValues(sb, `db/${role}`);
    expect(stored.map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    const names = stored.map((v) => v.value.username);
    if (strategy === 'single') expect(names).toEqual([role, role, role]);
    if (strategy === 'alternating') expect(names).toEqual([`${role}_clone`, role, `${role}_clone`]);
    if (strategy === 'new-user') expect(names).toEqual([`${role}_v1`, `${role}_v2`, `${role}_v3`]);
    const h = await sb.json<HistoryJson>(['history', `db/${role}`]);
    expect(h.rotations.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

// single has no grace to test: its old password stops working at apply (see the zero-downtime test).
describe.each(['alternating', 'new-user'] as const)('postgres-password, %s, with grace', (strategy) => {
  const role = `app_${strategy.replace('-', '_')}`;

  it('keeps the previous login working through grace, then retires it', async () => {
    const r = `${role}_g`;
    await admin.query(`CREATE ROLE ${r} NOLOGIN`);
    const sb = sandbox(`  - { id: db/${r}, type: postgres-password, target: db, strategy: ${strategy}, username: ${r}, grace: 1h }\n`);
    await sb.ok(['init']);
    await sb.ok(['rotate', `db/${r}`]);
    await sb.ok(['rotate', `db/${r}`]); // cuts v1's grace short, v2 current, v1 retired
    await sb.ok(['rotate', `db/${r}`]);
    const mid = await storedValues(sb, `db/${r}`);
    expect(mid.map((v) => v.stage)).toEqual(['retired', 'previous', 'current']);
    await expectServerAgrees(sb, `db/${r}`, pgAccepts);
    await sb.ok(['retire', '--force', `db/${r}`]);
    expect((await storedValues(sb, `db/${r}`)).map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    await expectServerAgrees(sb, `db/${r}`, pgAccepts);
  });
});

describe('postgres-password drain before retire', () => {
  it('holds the old login while a client is on it, names the client, and retires once it leaves', async () => {
    await admin.query('CREATE ROLE app_drain NOLOGIN');
    const sb = sandbox('  - { id: db/drain, type: postgres-password, target: db, strategy: alternating, username: app_drain, grace: 1h, drain: { timeout: 1s } }\n');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/drain']);
    const v1 = (await storedValues(sb, 'db/drain'))[0]!.value;
    const holder = new pg.Client({ ...v1, user: v1.username, application_name: 'billing-worker' });
    holder.on('error', () => {});
    await holder.connect();
    await sb.ok(['rotate', 'db/drain']);
    const held = await sb.run(['retire', '--force', 'db/drain']);
    expect(held.code).toBe(3);
    expect(held.stdout).toMatch(/held: 1 session \[127\.0\.0\.1:\d+ \(billing-worker\)\] still logged in as app_drain_clone after 1s/);
    expect(held.stdout).toMatch(/reload them, then run `rotor retire` again/);
    expect(await pgAccepts(v1)).toBe(true);
    await holder.end();
    await sb.ok(['retire', '--force', 'db/drain']);
    expect(await pgAccepts(v1)).toBe(false);
  });

  it('proceeds after the drain timeout when the policy says so', async () => {
    await admin.query('CREATE ROLE app_drain2 NOLOGIN');
    const sb = sandbox(
      '  - { id: db/proceed, type: postgres-password, target: db, strategy: alternating, username: app_drain2, grace: 1h, priority: critical, drain: { timeout: 1s, onTimeout: proceed } }\n',
    );
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/proceed']);
    const v1 = (await storedValues(sb, 'db/proceed'))[0]!.value;
    const holder = new pg.Client({ ...v1, user: v1.username, application_name: 'cron' });
    holder.on('error', () => {});
    await holder.connect();
    await sb.ok(['rotate', 'db/proceed', '--no-grace']);
    expect(await pgAccepts(v1)).toBe(false);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/revoked anyway \(drain.onTimeout: proceed\)/);
    await holder.end();
  });

  it('an emergency revokes the old login at once even under a hold policy', async () => {
    await admin.query('CREATE ROLE app_drain3 NOLOGIN');
    const sb = sandbox(
      '  - { id: db/leaked, type: postgres-password, target: db, strategy: alternating, username: app_drain3, grace: 1h, priority: critical, drain: { timeout: 1m, onTimeout: hold } }\n',
    );
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/leaked']);
    const v1 = (await storedValues(sb, 'db/leaked'))[0]!.value;
    const holder = new pg.Client({ ...v1, user: v1.username, application_name: 'attacker' });
    holder.on('error', () => {});
    await holder.connect();
    const started = Date.now();
    await sb.ok(['emergency', '--scope', 'critical', '--incident', 'INC-7', '--reason', 'leaked in a log']);
    expect(Date.now() - started).toBeLessThan(30_000); // did not wait out the 1m drain
    expect(await pgAccepts(v1)).toBe(false);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/1 session \[127\.0\.0\.1:\d+ \(attacker\)\] still on app_drain3_clone: revoked anyway \(emergency\)/);
    await holder.end();
  });
});

describe('postgres-password preflight and failures', () => {
  it('refuses at plan and rotate time when the admin login cannot alter roles, saying what to grant, and touches nothing', async () => {
    await admin.query("CREATE ROLE weak LOGIN PASSWORD 'weak-password-123'; CREATE ROLE app_pf NOLOGIN");
    const weakUrl = `postgres://weak:weak-password-123@127.0.0.1:${server.port}/postgres`;
    const sb = sandbox('  - { id: db/pf, type: postgres-password, target: db, strategy: alternating, username: app_pf }\n');
    sb.baseEnv.PG_ADMIN_URL = weakUrl;
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stderr + plan.stdout).toMatch(/can neither create nor alter roles[\s\S]*ALTER ROLE "weak" CREATEROLE/);
    const rotate = await sb.run(['rotate', 'db/pf']);
    expect(rotate.code).toBe(2);
    expect(rotate.stdout).toMatch(/REFUSED/);
    expect(await sb.json<HistoryJson>(['history', 'db/pf'])).toMatchObject({ versions: [], rotations: [] });
    expect((await admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'app_pf_clone'")).rowCount).toBe(0);
    expect(plan.stdout + plan.stderr + rotate.stdout + rotate.stderr).not.toContain('weak-password-123');
  });

  it('names a missing role and says how to create it', async () => {
    const sb = sandbox('  - { id: db/missing, type: postgres-password, target: db, strategy: new-user, username: nobody_here }\n');
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout + plan.stderr).toMatch(/role nobody_here does not exist[\s\S]*CREATE ROLE "nobody_here" NOLOGIN/);
  });

  it('a refused admin password and a target that is down: nothing started, the password never printed', async () => {
    await admin.query('CREATE ROLE app_down NOLOGIN');
    const sb = sandbox('  - { id: db/down, type: postgres-password, target: db, strategy: single, username: app_down }\n');
    await sb.ok(['init']);
    const wrong = await sb.run(['rotate', 'db/down'], { PG_ADMIN_URL: `postgres://postgres:not-the-password-xyz@127.0.0.1:${server.port}/postgres` });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toMatch(/refused the admin login postgres[\s\S]*check the user and password in targets\.db\.url/);
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password-xyz');
    const down = await sb.run(['rotate', 'db/down'], { PG_ADMIN_URL: `postgres://postgres:pw-of-a-dead-server@127.0.0.1:1/postgres` });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/NOT STARTED\s+db\/down\s+target db \(127\.0\.0\.1:1\) refused the connection/);
    expect(down.stdout + down.stderr).not.toContain('pw-of-a-dead-server');
    expect(await sb.json<HistoryJson>(['history', 'db/down'])).toMatchObject({ versions: [], rotations: [] });
  });

  it('no password of any version, nor the admin password, appears in the server statement log', async () => {
    // Every earlier test in this file rotated through this server with log_statement=all.
    await admin.query('CREATE ROLE app_log NOLOGIN');
    const sb = sandbox('  - { id: db/log, type: postgres-password, target: db, strategy: alternating, username: app_log }\n');
    await sb.ok(['init']);
    for (let i = 0; i < 3; i++) await sb.ok(['rotate', 'db/log', '--no-grace']);
    const log = server.log();
    expect(log).toMatch(/ALTER ROLE "app_log(_clone)?" WITH LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/);
    const passwords = (await storedValues(sb, 'db/log')).map((v) => v.value.password);
    for (const p of passwords) expect(log).not.toContain(p);
    expect(log).not.toContain(server.password);
    // Nor in Rotor's own files: state, audit, vault (encrypted), anything under .rotor/.
    const audit = (await sb.ok(['audit', 'export'])).stdout;
    for (const [file, bytes] of sb.files('.rotor')) {
      for (const secret of [...passwords, server.password]) expect(bytes.includes(secret), `${file} holds a password`).toBe(false);
    }
    for (const secret of [...passwords, server.password]) expect(audit).not.toContain(secret);
  });
});
