/**
 * `mysql-password` against a private MariaDB: single and alternating through rotations,
 * grace, retire and the proof that old passwords are refused; grants follow the clone, and
 * grants taken from the main leave it; drain, and alternating refused to an admin that
 * could not see other accounts' sessions; dual-password refused at plan time on MariaDB;
 * what `rotor plan` says retire revokes; the general log searched for passwords. (The
 * first retire of an account from before Rotor: left-behind.test.ts.) Dual-password itself needs MySQL 8.0.14+, which Debian does not ship: its
 * test runs when ROTOR_TEST_MYSQL_URL names a MySQL 8 admin URL.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startMariadb, type MariadbServer } from '../helpers/servers/mariadb.js';
import { mysqlAccepts } from '../helpers/logins.js';
import { expectServerAgrees, storedValues, type HistoryJson } from '../helpers/db-history.js';

let server: MariadbServer;
let admin: mysql.Connection;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startMariadb();
  admin = await mysql.createConnection({ host: server.host, port: server.port, user: 'root', password: server.password, multipleStatements: true });
  await admin.query("CREATE DATABASE shop; CREATE TABLE shop.items (n int); INSERT INTO shop.items VALUES (7); SET GLOBAL general_log_file = 'general.log'; SET GLOBAL general_log = 1");
}, 90_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

function sandbox(secrets: string, url = server.url): Sandbox {
  const sb = new Sandbox(`version: 1\ntargets:\n  db: { type: mysql, url: "\${MYSQL_ADMIN_URL}" }\nsecrets:\n${secrets}`);
  sb.baseEnv.MYSQL_ADMIN_URL = url;
  sandboxes.push(sb);
  return sb;
}

describe.each(['single', 'alternating'] as const)('mysql-password, %s', (strategy) => {
  const user = `shop_${strategy}`;

  it('rotates three times: each current logs in and reads what the account may read, each retired password is refused', async () => {
    await admin.query(`CREATE USER '${user}'@'%'; GRANT SELECT ON shop.* TO '${user}'@'%'`);
    const sb = sandbox(`  - { id: db/${user}, type: mysql-password, target: db, strategy: ${strategy}, username: ${user}, database: shop }\n`);
    await sb.ok(['init']);
    expect((await sb.ok(['plan'])).stdout).toMatch(/MariaDB 10\.\d+/);
    for (let i = 1; i <= 3; i++) {
      await sb.ok(['rotate', `db/${user}`, '--no-grace']);
      const current = await expectServerAgrees(sb, `db/${user}`, mysqlAccepts);
      const c = await mysql.createConnection({ ...current, user: current.username });
      const [rows] = await c.query('SELECT n FROM items');
      await c.end();
      expect(rows).toEqual([{ n: 7 }]);
    }
    const stored = await storedValues(sb, `db/${user}`);
    expect(stored.map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    expect(stored.map((v) => v.value.username)).toEqual(strategy === 'single' ? [user, user, user] : [`${user}_clone`, user, `${user}_clone`]);
    expect((await sb.json<HistoryJson>(['history', `db/${user}`])).rotations.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe('mysql-password, alternating, with grace and drain', () => {
  it('keeps the previous account working through grace, copies grants added later, holds retire while a client is on the old account', async () => {
    await admin.query("CREATE USER 'shop_g'@'%'; GRANT SELECT ON shop.* TO 'shop_g'@'%'");
    const sb = sandbox('  - { id: db/g, type: mysql-password, target: db, strategy: alternating, username: shop_g, database: shop, grace: 1h, drain: { timeout: 1s } }\n');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/g']);
    await admin.query("GRANT INSERT ON shop.* TO 'shop_g'@'%'");
    await sb.ok(['rotate', 'db/g']);
    await sb.ok(['rotate', 'db/g']);
    const mid = await storedValues(sb, 'db/g');
    expect(mid.map((v) => v.stage)).toEqual(['retired', 'previous', 'current']);
    await expectServerAgrees(sb, 'db/g', mysqlAccepts);
    const clone = mid[2]!.value;
    const c = await mysql.createConnection({ ...clone, user: clone.username });
    await c.query('INSERT INTO items VALUES (8)'); // the grant added after the clone was created
    await c.end();
    const prev = mid[1]!.value;
    const holder = await mysql.createConnection({ ...prev, user: prev.username });
    holder.on('error', () => {});
    const held = await sb.run(['retire', '--force', 'db/g']);
    expect(held.code).toBe(3);
    expect(held.stdout).toMatch(/held: 1 session \[(localhost|127\.0\.0\.1):\d+ \(db shop\)\] still logged in as shop_g after 1s/);
    await holder.end();
    await sb.ok(['retire', '--force', 'db/g']);
    await expectServerAgrees(sb, 'db/g', mysqlAccepts);
  });
});

describe('mysql-password, alternating, keeps the clone to the main account', () => {
  /** The errno a statement fails with, or 'allowed'. */
  const refusal = (c: mysql.Connection, statement: string) => c.query(statement).then(() => 'allowed', (err: { errno?: number }) => err.errno);

  /** Rotates `id` and connects as its current value, which must be the clone. */
  async function asClone(sb: Sandbox, id: string, clone: string): Promise<mysql.Connection> {
    await sb.ok(['rotate', id, '--no-grace']);
    const v = await expectServerAgrees(sb, id, mysqlAccepts);
    expect(v.username).toBe(clone);
    const c = await mysql.createConnection({ ...v, user: v.username });
    c.on('error', () => {});
    return c;
  }

  it('a privilege taken from the main (REVOKE DELETE) is gone from the clone the next time it is set', async () => {
    await admin.query("CREATE USER 'shop_rs'@'%'; GRANT SELECT, DELETE ON shop.* TO 'shop_rs'@'%'");
    const sb = sandbox('  - { id: db/rs, type: mysql-password, target: db, strategy: alternating, username: shop_rs, database: shop }\n');
    await sb.ok(['init']);
    let c = await asClone(sb, 'db/rs', 'shop_rs_clone');
    await c.query('DELETE FROM items WHERE n = -1');
    await c.end();
    await admin.query("REVOKE DELETE ON shop.* FROM 'shop_rs'@'%'");
    await sb.ok(['rotate', 'db/rs', '--no-grace']); // shop_rs
    c = await asClone(sb, 'db/rs', 'shop_rs_clone');
    expect(await refusal(c, 'SELECT n FROM items WHERE n = 7')).toBe('allowed');
    expect(await refusal(c, 'DELETE FROM items WHERE n = -1')).toBe(1142);
    await c.end();
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/1 grant shop_rs no longer has revoked/);
  });

  it('a role follows the main to the clone with its default, and leaves the clone when taken from the main', async () => {
    await admin.query(`CREATE TABLE shop.ro_log (n int); CREATE ROLE shop_writer; GRANT INSERT ON shop.* TO shop_writer;
      CREATE USER 'shop_ro'@'%'; GRANT SELECT ON shop.* TO 'shop_ro'@'%'; GRANT shop_writer TO 'shop_ro'@'%'; SET DEFAULT ROLE shop_writer FOR 'shop_ro'@'%'`);
    const sb = sandbox('  - { id: db/ro, type: mysql-password, target: db, strategy: alternating, username: shop_ro, database: shop }\n');
    await sb.ok(['init']);
    let c = await asClone(sb, 'db/ro', 'shop_ro_clone');
    await c.query('INSERT INTO ro_log VALUES (1)'); // through the default role, active at login
    await c.end();
    await admin.query("REVOKE shop_writer FROM 'shop_ro'@'%'; SET DEFAULT ROLE NONE FOR 'shop_ro'@'%'");
    await sb.ok(['rotate', 'db/ro', '--no-grace']); // shop_ro
    c = await asClone(sb, 'db/ro', 'shop_ro_clone');
    expect(await refusal(c, 'INSERT INTO ro_log VALUES (2)')).toBe(1142);
    await c.end();
    const [grants] = (await admin.query("SHOW GRANTS FOR 'shop_ro_clone'@'%'")) as unknown as [Record<string, string>[]];
    expect(grants.map((g) => Object.values(g)[0]).join('\n')).not.toContain('shop_writer');
  });
});

describe('mysql-password preflight and leaks', () => {
  it('alternating is refused at plan and rotate time to an admin without PROCESS, which would see no other account\'s session, naming the grant', async () => {
    await admin.query("CREATE USER 'noproc'@'%' IDENTIFIED BY 'noproc-password-1'; GRANT CREATE USER, SELECT, INSERT, UPDATE, DELETE ON *.* TO 'noproc'@'%' WITH GRANT OPTION; CREATE USER 'shop_np'@'%'");
    const url = `mysql://noproc:noproc-password-1@127.0.0.1:${server.port}/`;
    // Why: without PROCESS the process list holds the admin's own threads only.
    const noproc = await mysql.createConnection({ host: server.host, port: server.port, user: 'noproc', password: 'noproc-password-1' });
    const [seen] = (await noproc.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'root'")) as unknown as [{ n: number }[]];
    await noproc.end();
    expect(Number(seen[0]!.n)).toBe(0);

    const sb = sandbox('  - { id: db/np, type: mysql-password, target: db, strategy: alternating, username: shop_np }\n', url);
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/PROBLEM: the admin login noproc@% of target db \(127\.0\.0\.1:\d+\) has no PROCESS privilege, so drain cannot see who is still logged in as the old account\n\s+→ GRANT PROCESS ON \*\.\* TO 'noproc'@'%'/);
    const rotate = await sb.run(['rotate', 'db/np']);
    expect(rotate.code).toBe(2);
    expect(rotate.stdout).toMatch(/REFUSED/);
    expect(await sb.json<HistoryJson>(['history', 'db/np'])).toMatchObject({ versions: [], rotations: [] });
    expect(plan.stdout + plan.stderr + rotate.stdout + rotate.stderr).not.toContain('noproc-password-1');
    // single has no drain: the same admin may rotate it.
    const single = sandbox('  - { id: db/np1, type: mysql-password, target: db, strategy: single, username: shop_np }\n', url);
    await single.ok(['init']);
    await single.ok(['plan']);
  });

  it('plan names what retire revokes, including the password from before Rotor', async () => {
    const sb = sandbox([
      '  - { id: db/p-alt, type: mysql-password, target: db, strategy: alternating, username: shop }',
      '  - { id: db/p-dual, type: mysql-password, target: db, strategy: dual-password, username: shop }',
      '',
    ].join('\n'));
    await sb.ok(['init']);
    const plan = (await sb.ok(['plan', '--offline'])).stdout;
    expect(plan).toMatch(/retire +wait up to 30s \(then hold\) for sessions to end on whichever of shop \/ shop_clone is not current — on the first rotation shop itself, with the password it had before Rotor — then ACCOUNT LOCK it/);
    expect(plan).toMatch(/retire +DISCARD OLD PASSWORD of 'shop'@'%': removes its retained password — on the first rotation the one it had before Rotor — so only the current one works/);
  });

  it('dual-password on MariaDB is refused at plan time, naming the alternative, and rotate touches nothing', async () => {
    await admin.query("CREATE USER 'shop_dual'@'%' IDENTIFIED BY 'the-original-password-1'");
    const sb = sandbox('  - { id: db/dual, type: mysql-password, target: db, strategy: dual-password, username: shop_dual }\n');
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/runs MariaDB 10\.\d+\S*, which has no dual passwords \(RETAIN CURRENT PASSWORD needs MySQL 8\.0\.14 or later\)[\s\S]*use strategy: alternating/);
    const rotate = await sb.run(['rotate', 'db/dual']);
    expect(rotate.code).toBe(2);
    expect(await sb.json<HistoryJson>(['history', 'db/dual'])).toMatchObject({ versions: [], rotations: [] });
    expect(await mysqlAccepts({ username: 'shop_dual', password: 'the-original-password-1', host: server.host, port: server.port })).toBe(true);
  });

  it('an admin without CREATE USER is told what to grant; a missing account is named', async () => {
    await admin.query("CREATE USER 'weak'@'%' IDENTIFIED BY 'weak-password-456'; CREATE USER 'shop_w'@'%'");
    const weak = sandbox('  - { id: db/w, type: mysql-password, target: db, strategy: single, username: shop_w }\n', `mysql://weak:weak-password-456@127.0.0.1:${server.port}/`);
    await weak.ok(['init']);
    const plan = await weak.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/has no CREATE USER privilege[\s\S]*GRANT CREATE USER ON \*\.\* TO weak/);
    expect(plan.stdout + plan.stderr).not.toContain('weak-password-456');
    const missing = sandbox('  - { id: db/m, type: mysql-password, target: db, strategy: single, username: nobody_here }\n');
    await missing.ok(['init']);
    const r = await missing.run(['plan']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/account 'nobody_here'@'%' does not exist[\s\S]*CREATE USER 'nobody_here'@'%'/);
  });

  it('the general log holds hashes only: no password of any version', async () => {
    await admin.query("CREATE USER 'shop_log'@'%'");
    const sb = sandbox('  - { id: db/log, type: mysql-password, target: db, strategy: alternating, username: shop_log }\n');
    await sb.ok(['init']);
    for (let i = 0; i < 3; i++) await sb.ok(['rotate', 'db/log', '--no-grace']);
    const [[{ dir }]] = (await admin.query('SELECT @@datadir AS dir')) as unknown as [[{ dir: string }]];
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(`${dir}/general.log`, 'utf8');
    expect(log).toMatch(/ALTER USER 'shop_log(_clone)?'@'%' IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    for (const v of await storedValues(sb, 'db/log')) expect(log).not.toContain(v.value.password);
  });
});

describe.runIf(process.env.ROTOR_TEST_MYSQL_URL)('mysql-password, dual-password, on a real MySQL 8 (ROTOR_TEST_MYSQL_URL)', () => {
  it('old and new both log in during grace; after retire only the new one', async () => {
    const url = new URL(process.env.ROTOR_TEST_MYSQL_URL!);
    const root = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
    await root.query("DROP USER IF EXISTS 'rotor_dual'@'%'");
    await root.query("CREATE USER 'rotor_dual'@'%' IDENTIFIED BY 'Initial-password-123'");
    await root.end();
    const sb = sandbox('  - { id: db/dual8, type: mysql-password, target: db, strategy: dual-password, username: rotor_dual, grace: 1h }\n', url.href);
    await sb.ok(['init']);
    await sb.ok(['plan']);
    await sb.ok(['rotate', 'db/dual8']);
    await sb.ok(['rotate', 'db/dual8']);
    await expectServerAgrees(sb, 'db/dual8', mysqlAccepts);
    await sb.ok(['retire', '--force', 'db/dual8']);
    await expectServerAgrees(sb, 'db/dual8', mysqlAccepts);
  });
});
