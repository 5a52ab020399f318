/**
 * `postgres-password` against a private PostgreSQL: each strategy through rotations,
 * grace, retire and the proof that old passwords are refused; drain before retire, also under
 * an admin with only CREATEROLE; the clone kept to the main's memberships; preflight
 * refusals; what `rotor plan` says retire revokes; and the server's statement log searched
 * for every password. (The first retire of a login from before Rotor: left-behind.test.ts.)
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { connectPg, startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { pgAccepts } from '../helpers/logins.js';
import { expectServerAgrees, storedValues, type HistoryJson } from '../helpers/db-history.js';

let server: PostgresServer;
let admin: pg.Client;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = await connectPg(server.url);
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

describe('postgres-password under an admin with only CREATEROLE', () => {
  it('drain sees a session on the old login although pg_stat_activity hides its address, holds, and plan says what would show the address', async () => {
    await admin.query("CREATE ROLE rotor_cr LOGIN CREATEROLE PASSWORD 'cr-admin-password-1'; CREATE ROLE app_crdrain NOLOGIN");
    const sb = sandbox('  - { id: db/cr, type: postgres-password, target: db, strategy: alternating, username: app_crdrain, grace: 1h, drain: { timeout: 1s } }\n');
    sb.baseEnv.PG_ADMIN_URL = `postgres://rotor_cr:cr-admin-password-1@127.0.0.1:${server.port}/postgres`;
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/cr']);
    const v1 = (await storedValues(sb, 'db/cr'))[0]!.value;
    const holder = new pg.Client({ ...v1, user: v1.username, application_name: 'billing-worker' });
    holder.on('error', () => {});
    await holder.connect();
    await sb.ok(['rotate', 'db/cr']);
    const held = await sb.run(['retire', '--force', 'db/cr']);
    expect(held.code, held.stdout).toBe(3);
    expect(held.stdout).toMatch(/held: 1 session \[pid \d+ \(address hidden\) \(billing-worker\)\] still logged in as app_crdrain_clone after 1s/);
    expect(await pgAccepts(v1)).toBe(true);
    await holder.end();
    await sb.ok(['retire', '--force', 'db/cr']);
    expect(await pgAccepts(v1)).toBe(false);
    const plan = await sb.ok(['plan']);
    expect(plan.stdout).toMatch(/admin rotor_cr \(CREATEROLE\)/);
    expect(plan.stdout).toMatch(/note: drain counts sessions but cannot name their addresses: GRANT pg_read_all_stats TO "rotor_cr"/);
    expect(plan.stdout + held.stdout).not.toContain('cr-admin-password-1');
  });
});

describe('postgres-password alternating keeps the clone to the main role', () => {
  it('a membership granted to the clone alone is revoked and INHERIT restored when the clone is next set', async () => {
    await admin.query(`CREATE ROLE app_sync NOLOGIN; CREATE ROLE secret_reader NOLOGIN;
      CREATE TABLE app_sync_data (n int); INSERT INTO app_sync_data VALUES (5); GRANT SELECT ON app_sync_data TO app_sync;
      CREATE TABLE app_sync_secret (n int); GRANT SELECT ON app_sync_secret TO secret_reader`);
    const sb = sandbox('  - { id: db/sync, type: postgres-password, target: db, strategy: alternating, username: app_sync }\n');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/sync', '--no-grace']); // clone
    await sb.ok(['rotate', 'db/sync', '--no-grace']); // main
    // Drift while the clone is not in use: a role the main does not have, and NOINHERIT.
    await admin.query('GRANT secret_reader TO app_sync_clone; ALTER ROLE app_sync_clone NOINHERIT');
    await sb.ok(['rotate', 'db/sync', '--no-grace']); // clone again
    const current = await expectServerAgrees(sb, 'db/sync', pgAccepts);
    expect(current.username).toBe('app_sync_clone');
    const c = new pg.Client({ ...current, user: current.username });
    c.on('error', () => {});
    await c.connect();
    expect((await c.query('SELECT n FROM app_sync_data')).rows).toEqual([{ n: 5 }]);
    await expect(c.query('SELECT n FROM app_sync_secret')).rejects.toMatchObject({ code: '42501' });
    await c.end();
    const { rows } = await admin.query(
      "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'app_sync_clone'");
    expect(rows).toEqual([{ rolname: 'app_sync' }]);
    const audit = (await sb.ok(['audit', 'export'])).stdout;
    expect(audit).toMatch(/revoked from app_sync_clone: membership in secret_reader \(app_sync is not a member\)/);
    expect(audit).toMatch(/app_sync_clone set INHERIT again/);
  });

  it('role attributes given to the clone alone (CREATEDB, CREATEROLE) are taken away when the clone is next set', async () => {
    await admin.query('CREATE ROLE app_attr NOLOGIN');
    const sb = sandbox('  - { id: db/attr, type: postgres-password, target: db, strategy: alternating, username: app_attr }\n');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/attr', '--no-grace']); // clone
    await sb.ok(['rotate', 'db/attr', '--no-grace']); // main
    await admin.query('ALTER ROLE app_attr_clone CREATEDB CREATEROLE');
    await sb.ok(['rotate', 'db/attr', '--no-grace']); // clone again
    const { rows } = await admin.query("SELECT rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'app_attr_clone'");
    expect(rows).toEqual([{ rolcreatedb: false, rolcreaterole: false }]);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/app_attr_clone lost attributes app_attr does not have \(NOCREATEDB, NOCREATEROLE\)/);
  });
});

describe('postgres-password plan and config', () => {
  it('plan names what retire revokes, including the original login and the password it had before Rotor', async () => {
    const sb = sandbox([
      '  - { id: db/p-alt, type: postgres-password, target: db, strategy: alternating, username: shop }',
      '  - { id: db/p-nu, type: postgres-password, target: db, strategy: new-user, username: shop }',
      '  - { id: db/p-keep, type: postgres-password, target: db, strategy: new-user, username: shop, keepOriginal: true }',
      '  - { id: db/p-single, type: postgres-password, target: db, strategy: single, username: shop }',
      '',
    ].join('\n'));
    await sb.ok(['init']);
    const plan = (await sb.ok(['plan', '--offline'])).stdout;
    expect(plan).toMatch(/retire +wait up to 30s \(then hold\) for sessions to end on whichever of shop \/ shop_clone is not current — on the first rotation shop itself, with the password it had before Rotor — then set it NOLOGIN PASSWORD NULL/);
    expect(plan).toMatch(/retire +.*previous login shop_v<N-1>, then set it NOLOGIN PASSWORD NULL; at the first retire the original login shop likewise, with the password it had before Rotor/);
    expect(plan).toMatch(/the original login shop keeps its password \(keepOriginal: true\)/);
    expect(plan).toMatch(/note: keepOriginal: shop still logs in with a password Rotor does not hold/);
    expect(plan).toMatch(/retire +nothing left to revoke: a role holds one password, so apply replaced every earlier password of shop, including one set before Rotor/);
    const bad = sandbox('  - { id: db/bad, type: postgres-password, target: db, strategy: single, username: shop, keepOriginal: true }\n');
    const r = await bad.run(['plan', '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secrets\.0\.keepOriginal: keepOriginal is for new-user/);
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
