/**
 * Rotor's own logins as the rotated account: verify, and the proofs after retire. They go
 * where clients go (the value's host and port), or to the secret's `verifyHost`, and never
 * name a database at connect: an account without access to it would otherwise look refused.
 *
 * Verify proves what the service will meet: the login lands on the rotated account itself
 * (CURRENT_USER(), host included: 'app'@'localhost' is not 'app'@'%'); on a clone, the
 * main's default role is active (a login whose privileges all come through a role has none
 * without it); and the check query — the secret's `verifyQuery`, else SHOW TABLES FROM its
 * `database` — runs, in a read-only transaction that is rolled back.
 *
 * @example
 *   const r = await logIn(dest, value, (s) => checkSession(s, expected));
 *   if ('refused' in r) …   // 1045: access denied; 4151 / 3118: locked
 */
import mysqlCore from 'mysql2';
import type mysql from 'mysql2/promise';
import { untilAborted } from '../shared/abort.js';
import { RotorError } from '../../errors.js';
import { networkProblem } from '../shared/target-url.js';
import { accountName, parseAccount, sameAccount, type Account } from './accounts.js';
import type { MysqlValue } from './schema.js';

/** Server error numbers that mean "this login is refused": access denied, account locked. */
const LOGIN_REFUSED = new Set([1045, 4151, 3118]);

export interface Dest {
  host: string;
  port: number;
  /** How messages name the target. */
  where: string;
  /** The request's signal: the login and its checks stop, their socket destroyed, when it fires. */
  signal?: AbortSignal;
}

/** Logs in as `value` at `dest` and runs `check` on the session: the errno of a refused login, or what `check` returned. */
export async function logIn<T>(dest: Dest, value: MysqlValue, check: (c: mysql.Connection) => Promise<T>): Promise<{ refused: number } | { ok: T }> {
  const raw = mysqlCore.createConnection({ host: dest.host, port: dest.port, user: value.username, password: value.password, connectTimeout: 10_000 });
  const cutOff = () => raw.destroy();
  let c: mysql.Connection;
  try {
    c = await untilAborted(dest.signal, new Promise<mysql.Connection>((resolve, reject) => {
      raw.once('connect', () => resolve(raw.promise()));
      raw.once('error', reject);
    }), cutOff);
  } catch (err) {
    if (dest.signal?.aborted && err === dest.signal.reason) throw err;
    const errno = (err as { errno?: number }).errno;
    if (errno !== undefined && LOGIN_REFUSED.has(errno)) return { refused: errno };
    throw networkProblem(err, `${dest.where} (as ${value.username})`) ?? err;
  }
  raw.on('error', () => {});
  try {
    return { ok: await untilAborted(dest.signal, check(c), cutOff) };
  } finally {
    if (dest.signal?.aborted) cutOff();
    else await c.end().catch(() => {});
  }
}

/** The account the session landed on (CURRENT_USER()). */
export async function sessionAccount(c: mysql.Connection): Promise<Account> {
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS me');
  return parseAccount(String(rows[0]?.me ?? ''));
}

/** What verify expects of the session. */
export interface Expected {
  account: Account;
  /** The roles that must be active at login (a clone's: the main's default roles), normalized; '' for none to check. */
  roles: string;
  /** The statement that proves the service's privileges, if any. */
  query?: string;
}

/** Verify's checks on a logged-in session; throws a RotorError that says which one failed. Returns a line for the step record. */
export async function checkSession(c: mysql.Connection, expected: Expected, where: string): Promise<string> {
  const me = await sessionAccount(c);
  if (!sameAccount(me, expected.account)) {
    throw new RotorError(`${where}: the new password of ${expected.account.user} logged in, but as ${accountName(me)}, not ${accountName(expected.account)}`, {
      outcome: 'rolled-back', hint: 'another account of the same name matches where Rotor runs: `rotor plan` names it (set verifyHost, or drop or rename that account)',
    });
  }
  const done = [`logged in as ${accountName(me)}`];
  if (expected.roles) {
    const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT CURRENT_ROLE() AS r');
    const active = normalizeRoles(String(rows[0]?.r ?? ''));
    if (active !== expected.roles) {
      throw new RotorError(`${where}: ${accountName(me)} logs in with ${active ? `role ${active}` : 'no role'} active, not ${expected.roles}: a service using it would lack the privileges that come through the role`, {
        outcome: 'rolled-back', hint: 'check the default role of the main account (SET DEFAULT ROLE) and that the admin may set it on the clone (`rotor plan`)',
      });
    }
    done.push(`role ${active} active`);
  }
  if (expected.query) done.push(await runCheck(c, expected.query, me, where));
  return done.join('; ');
}

/** Runs the check query read-only and rolls it back: a check never changes data. */
async function runCheck(c: mysql.Connection, query: string, me: Account, where: string): Promise<string> {
  try {
    await c.query('START TRANSACTION READ ONLY');
    await c.query(query);
    return `${firstWords(query)} ok`;
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    throw new RotorError(`${where}: ${accountName(me)} logged in but the verify query failed (error ${errno ?? '?'}: ${err instanceof Error ? err.message : String(err)})`, {
      outcome: 'rolled-back',
      hint: `grant the account what the service needs${me.user.endsWith('_clone') ? ' (on the main account: alternating copies its grants to the clone)' : ''}, or fix verifyQuery`,
      cause: err,
    });
  } finally {
    await c.query('ROLLBACK').catch(() => {});
  }
}

/** The statement's first words, for a step record without a whole query in it. */
const firstWords = (query: string) => query.trim().split(/\s+/).slice(0, 4).join(' ');

/**
 * Roles as one comparable string: `r`@`%`, 'r' or r, several separated by commas, in any
 * order; NONE and NULL are none ('').
 */
export function normalizeRoles(text: string): string {
  return text
    .split(',')
    .map((r) => r.trim().replace(/[`']/g, ''))
    .filter((r) => r && !/^(none|null)$/i.test(r))
    .sort()
    .join(', ');
}
