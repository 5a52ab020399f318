/**
 * The `postgres-password` lines: a private PostgreSQL, asked through pg_authid (which roles
 * can log in with a password) and real logins.
 *
 * @example
 * const postgres = postgresTarget();
 * runRotatorConformance(postgresLine(postgres, 'alternating'));
 */
import pg from 'pg';
import { pgAccepts } from '../../helpers/logins.js';
import { startPostgres } from '../../helpers/servers/postgres.js';
import { asDb, password, shared, type Login } from './servers.js';
import type { ConformanceLine, Probe } from './types.js';

export function postgresTarget() {
  const ready = shared(startPostgres, async (s) => {
    // startPostgres returns once the server takes a real login.
    const pool = new pg.Pool({ connectionString: s.url, max: 4 });
    pool.on('error', () => {});
    return pool;
  }, async (s, pool) => {
    await pool.end();
    await s.stop();
  });
  return {
    url: () => ready().server.url,
    port: () => ready().server.port,
    query: async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) => (await ready().admin.query<R>(text, params)).rows,
  };
}
export type PostgresTarget = ReturnType<typeof postgresTarget>;

export function postgresLine(t: PostgresTarget, strategy: 'single' | 'alternating' | 'new-user'): ConformanceLine<Login> {
  const prefix = { single: 'pgs', alternating: 'pga', 'new-user': 'pgn' }[strategy];
  /** The roles a secret's values log in as: the login, its clone, its per-version logins. */
  const roles = (login: string) => t.query<{ rolname: string; rolcanlogin: boolean; has_password: boolean; member_of: string[] }>(
    `SELECT r.rolname, r.rolcanlogin, r.rolpassword IS NOT NULL AS has_password,
            ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
       FROM pg_authid r WHERE r.rolname = $1 OR r.rolname = $1 || '_clone' OR r.rolname ~ ('^' || $1 || '_v[0-9]+$') ORDER BY 1`, [login]);
  const probe: Probe<Login> = {
    accepts: (_ctx, v) => pgAccepts(asDb(v)),
    async unexplained(_ctx, login, stored) {
      // PostgreSQL keeps one password per role: a role that can log in with one must be explained by a stored value.
      const out: string[] = [];
      for (const role of await roles(login)) {
        if (!role.rolcanlogin || !role.has_password) continue;
        let explained = false;
        for (const v of stored.filter((s) => s.username === role.rolname)) if (await pgAccepts(asDb(v))) explained = true;
        if (!explained) out.push(`role ${role.rolname} can log in with a password no stored value has`);
      }
      return out;
    },
    // SCRAM verifiers are salted afresh at every ALTER ROLE: compare what they allow, not their bytes.
    snapshot: (_ctx, login) => roles(login),
  };
  return {
    name: `postgres-password ${strategy}`,
    type: 'postgres-password',
    fields: (login) => ({ strategy, username: login, drain: { timeout: '10s' } }),
    target: { type: 'postgres', url: () => t.url() },
    login: (tag) => `${prefix}_${tag}`,
    inPlace: strategy === 'single',
    clean: async (_ctx, login) => void (await t.query(`CREATE ROLE ${login} NOLOGIN`)),
    async existing(_ctx, login) {
      const pw = password();
      await t.query(`CREATE ROLE ${login} LOGIN PASSWORD '${pw}'`);
      return { input: pw, value: { username: login, password: pw, host: '127.0.0.1', port: t.port(), database: 'postgres' }, refused: `not-${pw}` };
    },
    probe,
    secretsOf: (v) => [v.password],
  };
}
