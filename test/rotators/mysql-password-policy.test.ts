/**
 * `mysql-password` under a password policy, against a private MariaDB with the
 * simple_password_check plugin (INSTALL SONAME; MariaDB's Debian package ships it, while
 * cracklib_password_check is not installed here and MySQL's validate_password needs MySQL:
 * those are covered by the unit tests of policy.ts).
 *
 * - strict_password_validation ON (the default): MariaDB refuses every password hash, and
 *   Rotor sends only hashes — refused at plan time, with the way out, nothing touched.
 * - OFF: the hash would slip past the plugin, so Rotor generates passwords that meet it
 *   (the plugin itself, given each password as text on a scratch account, agrees), refuses
 *   at plan time a policy it cannot meet, and apply refuses a password generated before the
 *   policy tightened.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startMariadb, type MariadbServer } from '../helpers/servers/mariadb.js';
import { mysqlAccepts } from '../helpers/logins.js';
import { expectServerAgrees, storedValues, type HistoryJson } from '../helpers/db-history.js';
import { mysqlDefinition } from '../../src/rotators/mysql-password/index.js';
import { createMysqlRotator } from '../../src/rotators/mysql-password/rotator.js';

let server: MariadbServer;
let admin: mysql.Connection;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startMariadb();
  admin = await mysql.createConnection({ host: server.host, port: server.port, user: 'root', password: server.password, multipleStatements: true });
  await admin.query("INSTALL SONAME 'simple_password_check'");
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

const hashOf = async (user: string) =>
  ((await admin.query('SELECT authentication_string AS h FROM mysql.user WHERE User = ? AND Host = ?', [user, '%'])) as unknown as [{ h: string }[]])[0][0]?.h;

/** A password the policy below takes (the plugin refuses CREATE USER without one). */
const COMPLIANT = 'Pre-rotor-Password-123-pre-rotor-PASSWORD';

/** The policy the tests below run under: 40 characters, 3 digits, 2 of each case, 2 others. */
async function strictPolicy(): Promise<void> {
  await admin.query(`SET GLOBAL strict_password_validation = OFF; SET GLOBAL simple_password_check_digits = 3;
    SET GLOBAL simple_password_check_letters_same_case = 2; SET GLOBAL simple_password_check_other_characters = 2;
    SET GLOBAL simple_password_check_minimal_length = 40`);
}

describe('mysql-password with simple_password_check and strict_password_validation ON', () => {
  it('is refused at plan and rotate time, saying why and what to change; the account keeps its password', async () => {
    await admin.query("CREATE USER 'pol_strict'@'%' IDENTIFIED BY 'Strict-pass-1'");
    const before = await hashOf('pol_strict');
    const sb = sandbox('  - { id: db/strict, type: mysql-password, target: db, strategy: single, username: pol_strict }\n');
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/PROBLEM: target db \(127\.0\.0\.1:\d+\) refuses password hashes: strict_password_validation is ON and simple_password_check is active, but Rotor sets MariaDB passwords only as hashes[^\n]*\n\s+→ SET GLOBAL strict_password_validation = OFF .*Rotor then checks every password it generates against simple_password_check's settings/);
    const rotate = await sb.run(['rotate', 'db/strict']);
    expect(rotate.code).toBe(2);
    expect(rotate.stdout).toMatch(/REFUSED/);
    expect(await sb.json<HistoryJson>(['history', 'db/strict'])).toMatchObject({ versions: [], rotations: [] });
    expect(await hashOf('pol_strict')).toBe(before);
    expect(await mysqlAccepts({ username: 'pol_strict', password: 'Strict-pass-1', host: server.host, port: server.port })).toBe(true);
  });
});

describe('mysql-password with simple_password_check and strict_password_validation OFF', () => {
  beforeAll(strictPolicy);

  it.each(['single', 'alternating'] as const)('%s: every generated password meets the policy, as the plugin itself confirms', async (strategy) => {
    const user = `pol_${strategy}`;
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${COMPLIANT}'; CREATE USER IF NOT EXISTS 'pol_oracle'@'%' IDENTIFIED BY '${COMPLIANT}'`);
    const sb = sandbox(`  - { id: db/${user}, type: mysql-password, target: db, strategy: ${strategy}, username: ${user} }\n`);
    await sb.ok(['init']);
    expect((await sb.ok(['plan'])).stdout).toMatch(
      /password policy simple_password_check \(at least 40 characters, 3 digits, 2 upper-case, 2 lower-case, 2 special\): generated passwords have 40 characters, with - _ \./,
    );
    for (let i = 0; i < 3; i++) await sb.ok(['rotate', `db/${user}`, '--no-grace']);
    await expectServerAgrees(sb, `db/${user}`, mysqlAccepts);
    for (const { value } of await storedValues(sb, `db/${user}`)) {
      const p = value.password;
      expect(p).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{39}$/);
      expect(p.replace(/[^0-9]/g, '').length).toBeGreaterThanOrEqual(3);
      expect(p.replace(/[^A-Z]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(p.replace(/[^a-z]/g, '').length).toBeGreaterThanOrEqual(2);
      expect(p.replace(/[A-Za-z0-9]/g, '').length).toBeGreaterThanOrEqual(2);
      // The plugin checks a password given as text: on a scratch account, it must take each one.
      await admin.query("ALTER USER 'pol_oracle'@'%' IDENTIFIED BY ?", [p]);
    }
  });

  it('a policy asking for more than 128 characters is refused at plan time, naming the variable to lower', async () => {
    await admin.query(`CREATE USER 'pol_long'@'%' IDENTIFIED BY '${COMPLIANT}'; SET GLOBAL simple_password_check_minimal_length = 200`);
    try {
      const sb = sandbox('  - { id: db/long, type: mysql-password, target: db, strategy: single, username: pol_long }\n');
      await sb.ok(['init']);
      const plan = await sb.run(['plan']);
      expect(plan.code).toBe(2);
      expect(plan.stdout).toMatch(/PROBLEM: target db \(127\.0\.0\.1:\d+\)'s password policy \(simple_password_check\) asks for 200 characters; Rotor generates at most 128\n\s+→ lower simple_password_check_minimal_length to 128 or less/);
      expect((await sb.run(['rotate', 'db/long'])).code).toBe(2);
    } finally {
      await admin.query('SET GLOBAL simple_password_check_minimal_length = 40');
    }
  });

  it('apply refuses a password generated before the policy tightened, instead of setting its hash past the plugin', async () => {
    await admin.query(`CREATE USER 'pol_late'@'%' IDENTIFIED BY '${COMPLIANT}'`);
    const before = await hashOf('pol_late');
    const rotator = createMysqlRotator({ now: Date.now, baseDir: '.' });
    const base = { secretId: 'db/late', spec: mysqlDefinition.schema.parse({ strategy: 'single', username: 'pol_late' }), target: { name: 'db', type: 'mysql', url: server.url }, signal: new AbortController().signal };
    try {
      const { value } = await rotator.generate({ ...base, version: 1, current: undefined });
      await admin.query('SET GLOBAL simple_password_check_other_characters = 12');
      const err = await rotator.apply({ ...base, pending: value, current: undefined }).then(() => undefined, (e: Error & { outcome?: string }) => e);
      expect(err).toMatchObject({ outcome: 'usage', message: expect.stringMatching(/the new password of pol_late does not meet the password policy of target db .*\(simple_password_check\): fewer than 12 special characters; Rotor does not set a password past the policy/) });
      expect(err?.message).not.toContain(value.password);
      expect(await hashOf('pol_late')).toBe(before);
    } finally {
      await admin.query('SET GLOBAL simple_password_check_other_characters = 2');
      await rotator.close();
    }
  });
});
