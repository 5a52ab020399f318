/**
 * `mysql-password` with accounts that share a name across hosts, against a private MariaDB
 * that matches clients by address (--skip-name-resolve) and listens on 127.0.0.1 and ::1:
 * two client hosts on one machine, so 'app'@'127.0.0.1' and 'app'@'::1' are reached
 * separately. Drain counts only the sessions of the account it retires; `verifyHost` sends
 * Rotor's own logins where the rotated account, and not its namesake, takes them.
 * (The classic 'app'@'localhost' beside 'app'@'%': mysql-password.test.ts.)
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startMariadb, type MariadbServer } from '../helpers/servers/mariadb.js';
import { mysqlAccepts } from '../helpers/logins.js';
import { expectServerAgrees, storedValues } from '../helpers/db-history.js';

let server: MariadbServer;
let admin: mysql.Connection;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startMariadb({ bindAddress: '127.0.0.1,::1', args: ['--skip-name-resolve'] });
  admin = await mysql.createConnection({ host: server.host, port: server.port, user: 'root', password: server.password, multipleStatements: true });
}, 90_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

function sandbox(secrets: string): Sandbox {
  const sb = new Sandbox(`version: 1\ntargets:\n  db: { type: mysql, url: "\${MYSQL_ADMIN_URL}" }\nsecrets:\n${secrets}`);
  sb.baseEnv.MYSQL_ADMIN_URL = server.url;
  sandboxes.push(sb);
  return sb;
}

/** A client session from `host` (127.0.0.1 or ::1), kept open; `account` is the one the server must give it. */
async function sessionFrom(host: string, user: string, password: string, account: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ host, port: server.port, user, password });
  c.on('error', () => {});
  const [rows] = (await c.query('SELECT CURRENT_USER() AS me')) as unknown as [{ me: string }[]];
  expect(rows[0]!.me).toBe(account);
  return c;
}

describe('mysql-password drain with accounts that share a name', () => {
  it("a session of 'app'@'::1' does not hold the retire of 'app'@'%'; a session of the retired account itself still does", async () => {
    await admin.query("CREATE USER 'shop_h2'@'%'; CREATE USER 'shop_h2'@'::1' IDENTIFIED BY 'v6-password-1'");
    const sb = sandbox('  - { id: db/h2, type: mysql-password, target: db, strategy: alternating, username: shop_h2, grace: 1h, drain: { timeout: 1s } }\n');
    await sb.ok(['init']);
    await sb.ok(['plan']);
    await sb.ok(['rotate', 'db/h2']); // shop_h2_clone current; 'shop_h2'@'%' in grace
    const other = await sessionFrom('::1', 'shop_h2', 'v6-password-1', 'shop_h2@::1');
    await sb.ok(['retire', '--force', 'db/h2']);
    expect(await mysqlAccepts({ username: 'shop_h2', password: 'v6-password-1', host: '::1', port: server.port })).toBe(true);
    await other.end();

    await sb.ok(['rotate', 'db/h2']); // shop_h2 current again; the clone in grace
    const clone = (await storedValues(sb, 'db/h2'))[0]!.value;
    const holder = await sessionFrom('::1', clone.username, clone.password, 'shop_h2_clone@%');
    const held = await sb.run(['retire', '--force', 'db/h2']);
    expect(held.code).toBe(3);
    expect(held.stdout).toMatch(/held: 1 session \[::1:\d+\] still logged in as 'shop_h2_clone'@'%' after 1s/);
    await holder.end();
    await sb.ok(['retire', '--force', 'db/h2']);
    await expectServerAgrees(sb, 'db/h2', mysqlAccepts);
  });
});

describe('mysql-password verifyHost', () => {
  it("'app'@'127.0.0.1' takes Rotor's logins from 127.0.0.1: refused at plan; with verifyHost ::1 Rotor rotates 'app'@'%' and never touches the other", async () => {
    await admin.query("CREATE USER 'shop_vh'@'%' IDENTIFIED BY 'pct-password-2'; CREATE USER 'shop_vh'@'127.0.0.1' IDENTIFIED BY 'v4-password-2'");
    const refused = sandbox('  - { id: db/vh, type: mysql-password, target: db, strategy: single, username: shop_vh }\n');
    await refused.ok(['init']);
    const plan = await refused.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/a login as shop_vh from where Rotor runs \(seen as 127\.0\.0\.1\) gets the account 'shop_vh'@'127\.0\.0\.1', not 'shop_vh'@'%'/);

    const sb = sandbox("  - { id: db/vh, type: mysql-password, target: db, strategy: single, username: shop_vh, verifyHost: '::1' }\n");
    await sb.ok(['init']);
    expect((await sb.ok(['plan'])).stdout).toMatch(/Rotor logs in as 'shop_vh'@'%' from ::1 \(verifyHost ::1\)/);
    for (let i = 0; i < 2; i++) await sb.ok(['rotate', 'db/vh', '--no-grace']);
    const [old, current] = await storedValues(sb, 'db/vh');
    const via6 = (v: { username: string; password: string }) => mysqlAccepts({ ...v, host: '::1', port: server.port });
    expect(await via6(current!.value)).toBe(true);
    expect(await via6(old!.value)).toBe(false);
    expect(await via6({ username: 'shop_vh', password: 'pct-password-2' })).toBe(false);
    expect(await mysqlAccepts({ username: 'shop_vh', password: 'v4-password-2', host: '127.0.0.1', port: server.port })).toBe(true);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/logged in as 'shop_vh'@'%'/);
  });
});
