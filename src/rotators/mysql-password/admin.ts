/**
 * The admin connection of a `mysql` target as the mysql-password modules use it: a pool
 * per target (shared/admin-cache.ts), statements whose failures become RotorErrors that say
 * what to grant, and the server's kind, read once per pool. Statements carry names only
 * through `escape`; passwords only as hashes (MariaDB) or escaped literals (MySQL).
 */
import mysql from 'mysql2/promise';
import { RotorError } from '../../errors.js';
import type { AdminBase } from '../shared/admin-cache.js';
import { untilAborted } from '../shared/abort.js';
import { networkProblem } from '../shared/target-url.js';
import { serverKind, type ServerKind } from './server.js';

/** A target's pool, with the signal of the request using it: its statements stop when the step times out. */
export type Admin = AdminBase & { conn: mysql.Pool; signal?: AbortSignal };

/** Server errors that mean the admin lacks a privilege: 1698 is MariaDB's for a role it may not grant. */
const DENIED = new Set([1227, 1044, 1142, 1410, 1698]);

export function adminProblem(err: unknown, a: Admin, action: string): RotorError {
  const net = networkProblem(err, a.where);
  if (net) return net;
  const errno = (err as { errno?: number }).errno;
  const server = err instanceof Error ? err.message : String(err);
  const user = a.addr.user || '(none)';
  if (errno === 1045) {
    return new RotorError(`${a.where} refused the admin login ${user}`, { outcome: 'usage', hint: `check the user and password in targets.${a.target.name}.url`, cause: err });
  }
  if (errno !== undefined && DENIED.has(errno)) {
    return new RotorError(`the admin login ${user} of ${a.where} may not ${action}: ${server}`, {
      outcome: 'usage', hint: `GRANT CREATE USER, SELECT ON *.* TO ${user} WITH GRANT OPTION (grants are copied to the clone), or use an account that has them; \`rotor plan\` names what is missing`, cause: err,
    });
  }
  if (errno === 1819) {
    return new RotorError(`${a.where} refused to ${action}: ${server}`, {
      outcome: 'usage', hint: 'the server\'s password policy refused the password: `rotor plan` shows the policy Rotor read; run the rotation again for a new password', cause: err,
    });
  }
  return new RotorError(`${a.where} could not ${action}: ${server}`, { outcome: 'rolled-back', cause: err });
}

export async function sql<R = mysql.RowDataPacket>(a: Admin, action: string, text: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await run(a, text, params)) as R[];
  } catch (err) {
    if (aborted(a, err)) throw err;
    throw adminProblem(err, a, action);
  }
}

/** The signal's own reason: the step timed out, which is no problem of the server's. */
const aborted = (a: Admin, err: unknown) => a.signal?.aborted === true && err === a.signal.reason;

/**
 * Ends a statement the step gave up on, on the server (KILL from another connection): a
 * closed socket alone leaves it running, and it could change an account after the
 * rollback's undo looked. Waits until the thread is gone; bounded, best effort.
 */
async function endOnServer(a: Admin, c: mysql.PoolConnection): Promise<void> {
  const id = c.threadId;
  c.destroy();
  if (!id) return;
  const deadline = Date.now() + 8_000;
  try {
    await a.conn.query(`KILL ${Number(id)}`).catch(() => {}); // gone already: nothing to kill
    while (Date.now() < deadline) {
      const [rows] = await a.conn.query('SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
      if (!(rows as unknown[]).length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch {
    // Best effort: the step fails with its timeout either way.
  }
}

/** One statement on a pooled connection; when the signal fires the connection is destroyed, not returned to the pool. */
async function run(a: Admin, text: string, params: unknown[]): Promise<unknown> {
  if (!a.signal) return (await a.conn.query(text, params))[0];
  const c = await untilAborted(a.signal, a.conn.getConnection(), () => {}, (late) => late.release());
  let destroyed = false;
  try {
    return (await untilAborted(a.signal, c.query(text, params), () => ((destroyed = true), endOnServer(a, c))))[0];
  } finally {
    if (!destroyed) c.release();
  }
}

const kinds = new WeakMap<mysql.Pool, Promise<ServerKind>>();

export function kindOf(a: Admin): Promise<ServerKind> {
  let kind = kinds.get(a.conn);
  if (!kind) kinds.set(a.conn, (kind = sql<{ v: string }>(a, 'read its version', 'SELECT VERSION() AS v').then((r) => serverKind(r[0]?.v ?? ''))));
  return kind;
}

/** 'user'@'host', escaped for a statement. */
export const account = (a: Admin, user: string, host: string): string => `${a.conn.escape(user)}@${a.conn.escape(host)}`;

export async function showGrants(a: Admin, user: string, host: string): Promise<string[]> {
  const rows = await sql<Record<string, string>>(a, `read the grants of ${user}`, `SHOW GRANTS FOR ${account(a, user, host)}`);
  return rows.map((r) => Object.values(r)[0]!);
}

export async function accountExists(a: Admin, user: string, host: string): Promise<boolean> {
  try {
    await run(a, `SHOW GRANTS FOR ${account(a, user, host)}`, []);
    return true;
  } catch (err) {
    if ((err as { errno?: number }).errno === 1141) return false; // no such grant: no such account
    if (aborted(a, err)) throw err;
    throw adminProblem(err, a, `read the grants of ${user}`);
  }
}

/** The admin's own account (CURRENT_USER(), `user@host`). */
export async function adminAccount(a: Admin): Promise<string> {
  const [me] = await sql<{ me: string }>(a, 'read its own account', 'SELECT CURRENT_USER() AS me');
  return me?.me ?? a.addr.user;
}

/** The admin's own grant lines. */
export async function ownGrants(a: Admin): Promise<string[]> {
  return (await sql<Record<string, string>>(a, 'read its own grants', 'SHOW GRANTS')).map((r) => Object.values(r)[0]!);
}

/** CURRENT_USER()'s `user@host` as an account name for a GRANT hint. */
export function quoteAccount(me: string): string {
  const at = me.lastIndexOf('@');
  return at < 0 ? `'${me}'` : `'${me.slice(0, at)}'@'${me.slice(at + 1)}'`;
}
