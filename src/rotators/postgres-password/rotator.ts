/**
 * `postgres-password`: rotates a PostgreSQL login's password with one of three strategies.
 *
 * - single: ALTER ROLE in place. The old password stops working at apply — the failure
 *   window documented in the README.
 * - alternating: logins `name` and `name_clone`; the clone is a member of `name` (INHERIT),
 *   so it holds the same grants and memberships, and nothing more (clone.ts). Each rotation
 *   sets the password of the login not in use; retire takes LOGIN away from the other one —
 *   on the first rotation `name` itself, with the password it had before Rotor.
 * - new-user: a new login `name_vN` per rotation, granted the group role; retire sets
 *   NOLOGIN on the old one and never drops it (it may own objects). The first retire does
 *   the same to the original `name`, unless `keepOriginal`.
 *
 * Passwords reach the server only as SCRAM-SHA-256 verifiers computed here (scram.ts), so
 * the server's statement log holds nothing a client could log in with.
 */
import pg from 'pg';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps, TargetRef } from '../types.js';
import { drain, type Session } from '../shared/drain.js';
import { adoptedLogin, newLogin } from '../shared/spec.js';
import { adminCache, type AdminBase } from '../shared/admin-cache.js';
import { networkProblem } from '../shared/target-url.js';
import { cloneOf, loginFor, loginToRevoke, type PostgresSpec, type PostgresValue } from './schema.js';
import { syncClone, type Query } from './clone.js';
import { scramVerifier } from './scram.js';
import { ident, literal } from '../shared/pg-sql.js';
import { untilAborted } from '../shared/abort.js';

/** A target's pool, with the signal of the request using it: its queries stop when the step times out. */
type Admin = AdminBase & { conn: pg.Pool; signal?: AbortSignal };

/** Drops a client's socket at once: a login or query cut off by the step's signal leaves nothing waiting. */
function destroySocket(client: pg.Client | pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/**
 * Ends a statement the step gave up on, on the server: a closed socket alone leaves it
 * running (a CREATE ROLE waiting on a lock would commit after the rollback's undo looked).
 * Its backend is terminated from another connection and gone before this resolves, so the
 * undo that follows sees everything it did or nothing. Bounded: a server that does not
 * answer leaves the step to its wrapper's grace.
 */
async function endOnServer(a: { conn: pg.Pool }, client: pg.PoolClient, release: () => void): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  destroySocket(client);
  release();
  if (!pid) return;
  const deadline = Date.now() + 8_000;
  try {
    await a.conn.query('SELECT pg_terminate_backend($1)', [pid]);
    while (Date.now() < deadline) {
      const left = await a.conn.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (!left.rowCount) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch {
    // Best effort: the step fails with its timeout either way.
  }
}

/** SQLSTATEs a user can act on, and what to tell them. */
function adminProblem(err: unknown, admin: Admin, action: string): RotorError {
  const net = networkProblem(err, admin.where);
  if (net) return net;
  const code = (err as { code?: string }).code;
  const server = err instanceof Error ? err.message : String(err);
  const user = admin.addr.user || '(none)';
  switch (code) {
    case '28P01':
    case '28000':
      return new RotorError(`${admin.where} refused the admin login ${user}: ${server}`, {
        outcome: 'usage', hint: `check the user and password in targets.${admin.target.name}.url (and pg_hba.conf on the server)`, cause: err,
      });
    case '42501':
      return new RotorError(`the admin login ${user} of ${admin.where} may not ${action}: ${server}`, {
        outcome: 'usage',
        hint: `give it CREATEROLE (ALTER ROLE ${ident(user)} CREATEROLE; on PostgreSQL 16+ also ADMIN OPTION on the roles it rotates), or use a superuser`,
        cause: err,
      });
    case '3D000':
      return new RotorError(`${admin.where}: ${server}`, { outcome: 'usage', hint: `fix the database in targets.${admin.target.name}.url`, cause: err });
    default:
      return new RotorError(`${admin.where} could not ${action}: ${server}`, { outcome: 'rolled-back', cause: err });
  }
}

/** Rejections that prove a login is refused, as opposed to a server that cannot be asked. */
const LOGIN_REFUSED = new Set(['28P01', '28000']);

export function createPostgresRotator(_deps: RotatorDeps) {
  const admins = adminCache({
    type: 'postgres-password',
    defaultPort: 5432,
    open: (target) => {
      const pool = new pg.Pool({ connectionString: target.url, max: 8, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 10_000, application_name: 'rotor' });
      // An idle connection dropped by the server must not crash the process; the next query reports it.
      pool.on('error', () => {});
      return pool;
    },
  });
  const admin = (target: TargetRef | undefined, signal?: AbortSignal): Admin => ({ ...admins.get(target), signal });

  async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(a: Admin, action: string, text: string, params: unknown[] = []): Promise<R[]> {
    try {
      return await run<R>(a, text, params);
    } catch (err) {
      if (a.signal?.aborted && err === a.signal.reason) throw err;
      throw adminProblem(err, a, action);
    }
  }

  /** One statement on a pooled client; when the signal fires the client is destroyed, not returned to the pool. */
  async function run<R extends pg.QueryResultRow>(a: Admin, text: string, params: unknown[]): Promise<R[]> {
    if (!a.signal) return (await a.conn.query<R>(text, params)).rows;
    const client = await untilAborted(a.signal, a.conn.connect(), () => {}, (late) => late.release());
    let released = false;
    const release = (err?: Error | boolean) => {
      if (released) return;
      released = true;
      client.release(err);
    };
    try {
      return (await untilAborted(a.signal, client.query<R>(text, params), () => endOnServer(a, client, () => release(true)))).rows;
    } catch (err) {
      release(err instanceof Error && !('severity' in err) ? err : undefined);
      throw err;
    } finally {
      release();
    }
  }

  const roleExists = async (a: Admin, role: string) => (await canLogin(a, role)) !== undefined;

  /** pg_roles.rolcanlogin, which a CREATEROLE admin may read; undefined when there is no such role. */
  const canLogin = async (a: Admin, role: string): Promise<boolean | undefined> =>
    (await sql<{ can: boolean }>(a, 'read pg_roles', 'SELECT rolcanlogin AS can FROM pg_roles WHERE rolname = $1', [role]))[0]?.can;

  const versionNum = async (a: Admin): Promise<number> =>
    Number((await sql<{ v: string }>(a, 'read its version', "SELECT current_setting('server_version_num') AS v"))[0]?.v ?? 0);

  /** Makes `login` accept `password` and nothing else; creates it as a member of `group` when missing. */
  async function setPassword(a: Admin, login: string, password: string, memberOf?: string): Promise<string> {
    const verifier = await scramVerifier(password);
    if (memberOf !== undefined && !(await roleExists(a, login))) {
      await sql(a, `create role ${login}`, `CREATE ROLE ${ident(login)} WITH LOGIN PASSWORD ${literal(verifier)} IN ROLE ${ident(memberOf)}`);
      return `created login ${login} (member of ${memberOf})`;
    }
    await sql(a, `set the password of ${login}`, `ALTER ROLE ${ident(login)} WITH LOGIN PASSWORD ${literal(verifier)}`);
    if (memberOf !== undefined) {
      const member = await sql(a, 'read pg_auth_members',
        'SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2',
        [memberOf, login]);
      if (!member.length) await sql(a, `grant ${memberOf} to ${login}`, `GRANT ${ident(memberOf)} TO ${ident(login)}`);
    }
    return `set the password of ${login}`;
  }

  async function disableLogin(a: Admin, login: string): Promise<string> {
    if (!(await roleExists(a, login))) return `${login} does not exist`;
    await sql(a, `disable login ${login}`, `ALTER ROLE ${ident(login)} WITH NOLOGIN PASSWORD NULL`);
    return `${login} set NOLOGIN`;
  }

  /**
   * Every backend of `login`. Only usename, pid and application_name are shown to an admin
   * that is neither superuser nor in pg_read_all_stats; backend_type and client_addr read
   * NULL for other roles' sessions, so filtering on them would see no session at all. A
   * NULL backend_type is how such a hidden row shows itself.
   */
  const sessionsOf = (a: Admin, login: string) => async (): Promise<Session[]> => {
    const rows = await sql<{ pid: number; addr: string | null; port: number | null; app: string | null; hidden: boolean }>(a, 'read pg_stat_activity',
      `SELECT pid, host(client_addr) AS addr, client_port AS port, application_name AS app, backend_type IS NULL AS hidden
         FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`,
      [login]);
    return rows.map((r) => ({ client: r.hidden ? `pid ${r.pid} (address hidden)` : r.addr ? `${r.addr}:${r.port ?? ''}` : 'local socket', application: r.app ?? '' }));
  };

  /** Whether the admin sees every session's address in pg_stat_activity (superusers and pg_read_all_stats do). */
  async function readsAllStats(a: Admin): Promise<boolean> {
    const [row] = await sql<{ ok: boolean }>(a, 'read its memberships', "SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS ok");
    return row?.ok === true;
  }

  const query = (a: Admin): Query => (action, text, params) => sql(a, action, text, params);

  /** alternating apply: the login not in use gets the password; the clone is brought back in line with the main. */
  async function applyAlternating(a: Admin, spec: PostgresSpec, pending: PostgresValue, current: PostgresValue | undefined): Promise<string> {
    if (pending.username === spec.username) return setPassword(a, pending.username, pending.password);
    const set = await setPassword(a, pending.username, pending.password, spec.username);
    // Never reshape the login clients are on now; the pending one nobody uses yet.
    if (current?.username === pending.username) return set;
    const repairs = await syncClone(query(a), { main: spec.username, clone: cloneOf(spec.username), versionNum: await versionNum(a) });
    return [set, ...repairs].join('; ');
  }

  /**
   * Proves, from pg_roles, that the login retire revoked can no longer log in — the proof
   * that needs no password, so it holds for a password Rotor never had.
   */
  async function revokedProof(a: Admin, spec: PostgresSpec, retired: PostgresValue | undefined, current: PostgresValue): Promise<{ ok: boolean; detail: string }> {
    const login = loginToRevoke(spec, retired, current);
    if (login === undefined) {
      if (spec.strategy === 'new-user') return { ok: true, detail: `${spec.username} keeps its own password (keepOriginal: true)` };
      const refused = await tryLogin(a, current);
      return refused
        ? { ok: false, detail: `${a.where} refused the current password of ${current.username} (SQLSTATE ${refused})` }
        : { ok: true, detail: `${current.username} logs in with the current password, the only one a role holds` };
    }
    const can = await canLogin(a, login);
    if (can) return { ok: false, detail: `${login} can still log in (pg_roles.rolcanlogin)` };
    return { ok: true, detail: can === undefined ? `${login} does not exist` : `${login} is NOLOGIN` };
  }

  /** Logs in as `value`; resolves to the SQLSTATE of a refused login, or undefined when it worked. */
  async function tryLogin(a: Admin, value: PostgresValue, check?: (c: pg.Client) => Promise<void>): Promise<string | undefined> {
    const cutOff = () => {
      destroySocket(client);
      client.end().catch(() => {});
    };
    const client = new pg.Client({
      host: value.host, port: value.port, user: value.username, password: value.password, database: value.database,
      connectionTimeoutMillis: 10_000, application_name: 'rotor-verify',
    });
    client.on('error', () => {});
    try {
      await untilAborted(a.signal, client.connect(), cutOff);
    } catch (err) {
      if (a.signal?.aborted && err === a.signal.reason) throw err;
      const code = (err as { code?: string }).code;
      if (code && LOGIN_REFUSED.has(code)) return code;
      throw networkProblem(err, `${a.where} (as ${value.username})`) ?? err;
    }
    try {
      if (check) await untilAborted(a.signal, check(client), cutOff);
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  }

  return {
    async preflight({ spec, target, signal }) {
      const a = admin(target, signal);
      const [me] = await sql<{ version: string; user: string; super: boolean; createrole: boolean }>(a, 'read its own role',
        "SELECT current_setting('server_version') AS version, current_user AS user, rolsuper AS super, rolcreaterole AS createrole FROM pg_roles WHERE rolname = current_user");
      if (!me) throw new RotorError(`${a.where}: the admin login has no pg_roles row`, { outcome: 'usage' });
      if (!me.super && !me.createrole) {
        throw new RotorError(`the admin login ${me.user} of ${a.where} can neither create nor alter roles`, {
          outcome: 'usage', hint: `run ALTER ROLE ${ident(me.user)} CREATEROLE as a superuser, or use a superuser in targets.${a.target.name}.url`,
        });
      }
      // Rotating the admin's own login would lock Rotor out of the target at the first retire.
      const rotated = [spec.username, cloneOf(spec.username)];
      if (rotated.includes(me.user) || (spec.strategy === 'new-user' && me.user.startsWith(`${spec.username}_v`))) {
        throw new RotorError(`the admin login ${me.user} of ${a.where} is the login this secret rotates`, {
          outcome: 'usage', hint: `give Rotor an admin login of its own (CREATE ROLE rotor_admin LOGIN CREATEROLE PASSWORD …) in targets.${a.target.name}.url`,
        });
      }
      const needed = spec.strategy === 'new-user' ? spec.group ?? spec.username : spec.username;
      if (!(await roleExists(a, needed))) {
        throw new RotorError(`role ${needed} does not exist at ${a.where}`, {
          outcome: 'usage',
          hint: spec.strategy === 'new-user'
            ? `create the group role the new logins join (CREATE ROLE ${ident(needed)} NOLOGIN) and grant it what the service needs`
            : `create it (CREATE ROLE ${ident(needed)} LOGIN) or fix \`username\``,
        });
      }
      const notes = [`PostgreSQL ${me.version}; admin ${me.user}${me.super ? ' (superuser)' : ' (CREATEROLE)'}`];
      if (spec.strategy !== 'single' && !me.super && !(await readsAllStats(a))) {
        notes.push(`drain counts sessions but cannot name their addresses: GRANT pg_read_all_stats TO ${ident(me.user)} (or pg_monitor)`);
      }
      return { notes };
    },

    async adoptValue({ spec, target, input, signal }) {
      const a = admin(target, signal);
      if (spec.keepOriginal) {
        throw new RotorError(`${spec.username} is kept out of rotation (keepOriginal: true): its password cannot be adopted`, {
          outcome: 'usage', hint: 'remove keepOriginal to adopt the original login and revoke it at the first retire, or do not adopt it',
        });
      }
      // Every strategy starts from `username`: it is where clients connect before Rotor.
      return { value: { ...adoptedLogin(spec, a.addr, spec.username, input), database: databaseOf(spec, a) } };
    },

    async generate({ spec, target, version, current, signal }) {
      const a = admin(target, signal);
      return { value: { ...newLogin(spec, a.addr, loginFor(spec, version, current)), database: databaseOf(spec, a) } };
    },

    async apply({ spec, target, pending, current, signal }) {
      const a = admin(target, signal);
      switch (spec.strategy) {
        case 'single':
          return { detail: await setPassword(a, pending.username, pending.password) };
        case 'alternating':
          return { detail: await applyAlternating(a, spec, pending, current) };
        case 'new-user':
          return { detail: await setPassword(a, pending.username, pending.password, spec.group ?? spec.username) };
      }
    },

    async verify({ target, value, signal }) {
      const a = admin(target, signal);
      const refused = await tryLogin(a, value, async (c) => {
        const { rows } = await c.query<{ u: string }>('SELECT current_user AS u');
        if (rows[0]?.u !== value.username) throw new Error(`logged in, but as ${rows[0]?.u ?? 'nobody'} instead of ${value.username}`);
      });
      if (refused) throw new RotorError(`${a.where} refused the new password of ${value.username} (SQLSTATE ${refused})`, { outcome: 'rolled-back' });
      return { detail: `logged in as ${value.username}` };
    },

    async undoApply({ spec, target, pending, current, signal }) {
      const a = admin(target, signal);
      if (spec.strategy === 'single') {
        if (!current) return { detail: `first rotation: the password ${pending.username} had before Rotor cannot be restored; the pending value stays accepted and stored` };
        return { detail: await setPassword(a, current.username, current.password) };
      }
      if (current && pending.username === current.username) return { detail: 'nothing to undo' };
      return { detail: await disableLogin(a, pending.username) };
    },

    async retire({ spec, target, retiring, current, emergency, signal }) {
      const a = admin(target, signal);
      const login = loginToRevoke(spec, retiring, current);
      if (login === undefined) {
        return { detail: spec.strategy === 'single' ? 'the old password was replaced at apply' : `${spec.username} kept (keepOriginal: true)` };
      }
      if (login === current.username) throw new RotorError(`retire would revoke ${login}, the login of the current value`, { outcome: 'needs-person' });
      if (!(await roleExists(a, login))) return { detail: `${login} does not exist` };
      const drained = await drain({ login, policy: spec.drain, emergency, signal, sessions: sessionsOf(a, login) });
      return { detail: `${drained}; ${await disableLogin(a, login)}` };
    },

    async checkRejected({ spec, target, retired, current, signal }) {
      const a = admin(target, signal);
      const proofs: string[] = [];
      if (retired) {
        const refused = await tryLogin(a, retired);
        if (!refused) return { rejected: false, detail: `${retired.username} still logs in with the old password` };
        proofs.push(`login as ${retired.username} with the old password refused (SQLSTATE ${refused})`);
      }
      // An engine from before `current` was part of this request gives none: the login attempt stands alone.
      if (!current) return { rejected: proofs.length > 0, detail: proofs.join('; ') || 'no current value to prove against' };
      const proof = await revokedProof(a, spec, retired, current);
      return { rejected: proof.ok, detail: [...proofs, proof.detail].join('; ') };
    },

    async close() {
      await Promise.all(admins.all().map((pool) => pool.end().catch(() => {})));
      admins.clear();
    },
  } satisfies Rotator<PostgresSpec, PostgresValue>;
}

/** Not the admin URL's database when the secret names one; `postgres` when neither does. */
const databaseOf = (spec: PostgresSpec, a: Admin) => spec.database ?? (a.addr.database || 'postgres');

