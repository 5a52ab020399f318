/**
 * The `mysql-password` lines: a private MariaDB (or the MySQL 8 server ROTOR_TEST_MYSQL_URL
 * names), asked through its account table (locked, plugin, hash) and real logins.
 *
 * @example
 * const mariadb = mysqlTarget();
 * runRotatorConformance(mysqlLine(mariadb, 'alternating'));
 */
import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { mysqlAccepts } from '../../helpers/logins.js';
import { startMariadb } from '../../helpers/servers/mariadb.js';
import type { TestServer } from '../../helpers/servers/common.js';
import { asDb, password, shared, type Login } from './servers.js';
import type { ConformanceLine, Probe } from './types.js';

/** A private MariaDB, or the MySQL server `url` names (ROTOR_TEST_MYSQL_URL), which is not ours: its users are removed after. */
export function mysqlTarget(url?: string) {
  const created: string[] = [];
  const ready = shared<{ url: string; port: number; stop(): Promise<void> }, mysql.Pool>(
    async () => (url ? { url, port: Number(new URL(url).port || 3306), stop: async () => {} } : startMariadb() as Promise<TestServer>),
    (s) => mysql.createPool({ uri: s.url, connectionLimit: 4, multipleStatements: true }),
    async (s, pool) => {
      if (url) for (const user of created) await pool.query(`DROP USER IF EXISTS '${user}'@'%', '${user}_clone'@'%'`).catch(() => {});
      await pool.end();
      await s.stop();
    },
  );
  const run = `${Date.now().toString(36).slice(-3)}`;
  return {
    url: () => ready().server.url,
    port: () => ready().server.port,
    /** Logins on a server that is not ours carry a per-run suffix and are dropped after. */
    name: (login: string) => {
      if (!url) return login;
      created.push(`${login}${run}`);
      return `${login}${run}`;
    },
    query: async <R>(text: string, params: unknown[] = []) => (await ready().admin.query(text, params))[0] as R,
  };
}
export type MysqlTarget = ReturnType<typeof mysqlTarget>;

/** mysql_native_password: '*' and upper-case hex of SHA1(SHA1(password)). */
const nativeHash = (pw: string) => `*${createHash('sha1').update(createHash('sha1').update(pw).digest()).digest('hex').toUpperCase()}`;

export function mysqlLine(t: MysqlTarget, strategy: 'single' | 'alternating' | 'dual-password', skip?: string): ConformanceLine<Login> {
  const prefix = { single: 'mys', alternating: 'mya', 'dual-password': 'myd' }[strategy];
  interface Account { user: string; host: string; auth: string; plugin: string; locked: string; additional: string | null }
  const accounts = async (login: string): Promise<Account[]> => {
    const [{ v }] = await t.query<[{ v: string }]>('SELECT VERSION() AS v');
    // MariaDB keeps accounts in mysql.global_priv (JSON); MySQL 8 in mysql.user, a second password in User_attributes.
    const rows = /mariadb/i.test(v)
      ? await t.query<Account[]>(
        `SELECT User AS user, Host AS host, IFNULL(JSON_VALUE(Priv, '$.authentication_string'), '') AS auth, IFNULL(JSON_VALUE(Priv, '$.plugin'), '') AS plugin,
                IF(IFNULL(JSON_VALUE(Priv, '$.account_locked'), '0') IN ('1', 'true'), 'Y', 'N') AS locked, NULL AS additional
           FROM mysql.global_priv WHERE User IN (?, ?) ORDER BY User, Host`, [login, `${login}_clone`])
      : await t.query<Account[]>(
        `SELECT User AS user, Host AS host, authentication_string AS auth, plugin, account_locked AS locked,
                JSON_UNQUOTE(JSON_EXTRACT(User_attributes, '$.additional_password')) AS additional
           FROM mysql.user WHERE User IN (?, ?) ORDER BY User, Host`, [login, `${login}_clone`]);
    return rows.map((r) => ({ ...r, auth: String(r.auth), additional: r.additional ?? null }));
  };
  const grants = async (a: Account) => (await t.query<Record<string, string>[]>(`SHOW GRANTS FOR '${a.user}'@'${a.host}'`)).map((r) => Object.values(r)[0]).sort();
  const probe: Probe<Login> = {
    accepts: (_ctx, v) => mysqlAccepts(asDb(v)),
    async unexplained(_ctx, login, stored) {
      const out: string[] = [];
      for (const a of await accounts(login)) {
        if (a.locked === 'Y') continue;
        const mine = stored.filter((s) => s.username === a.user);
        const who = `'${a.user}'@'${a.host}'`;
        if (a.auth === '') out.push(`${who} accepts an empty password`);
        else if (a.plugin === 'mysql_native_password') {
          if (!mine.some((s) => nativeHash(s.password) === a.auth)) out.push(`${who} has a password hash no stored value has`);
        } else {
          // Salted hashes (caching_sha2_password): count the stored values that log in against the passwords the account holds.
          let working = 0;
          for (const s of mine) if (await mysqlAccepts(asDb(s))) working++;
          const held = 1 + (a.additional ? 1 : 0);
          if (working < held) out.push(`${who} holds ${held} password${held > 1 ? 's' : ''}, only ${working} of them stored`);
        }
      }
      return out;
    },
    snapshot: async (_ctx, login) => Promise.all((await accounts(login)).map(async (a) => ({ ...a, grants: await grants(a) }))),
  };
  return {
    name: `mysql-password ${strategy}`,
    type: 'mysql-password',
    skip,
    fields: (login) => ({ strategy, username: login, drain: { timeout: '10s' } }),
    target: { type: 'mysql', url: () => t.url() },
    login: (tag) => t.name(`${prefix}_${tag}`),
    inPlace: strategy === 'single',
    async clean(_ctx, login) {
      // A locked account has no credential that works. Dual-password can only retain a password the account has:
      // it starts with one nobody knows, which its first retire must discard.
      await t.query(strategy === 'dual-password' ? `CREATE USER '${login}'@'%' IDENTIFIED BY '${password()}'` : `CREATE USER '${login}'@'%' ACCOUNT LOCK`);
      await t.query(`GRANT SELECT ON mysql.help_topic TO '${login}'@'%'`);
    },
    async existing(_ctx, login) {
      const pw = password();
      await t.query(`CREATE USER '${login}'@'%' IDENTIFIED BY '${pw}'`);
      await t.query(`GRANT SELECT ON mysql.help_topic TO '${login}'@'%'`);
      return { input: pw, value: { username: login, password: pw, host: '127.0.0.1', port: t.port(), database: '' }, refused: `not-${pw}` };
    },
    probe,
    secretsOf: (v) => [v.password],
  };
}
