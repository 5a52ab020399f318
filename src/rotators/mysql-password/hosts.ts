/**
 * Accounts that share a name across hosts, against the server (accounts.ts holds the
 * matching rules). Preflight refuses a secret whose logins from where Rotor runs would land
 * on another account than the one it rotates — 'app'@'localhost' when Rotor rotates
 * 'app'@'%' from the database host: verify would test the wrong password, and every
 * rotation would roll back with a misleading "access denied". Drain counts only the
 * sessions that belong to the rotated account.
 *
 * @example
 *   const seen = await rotorSeenAs(a, { host: '10.0.0.5', port: 3306 });   // { name: 'localhost', ip: '127.0.0.1' }
 *   await refuseShadowed(a, spec, ['app', 'app_clone'], seen);
 */
import { connect } from 'node:net';
import mysql from 'mysql2/promise';
import { RotorError } from '../../errors.js';
import { networkProblem } from '../shared/target-url.js';
import { clientIp, matchingAccount, parseAccount, sameAccount, accountName, seenClient, type Account, type ClientHost } from './accounts.js';
import { sql, type Admin } from './admin.js';

/** The accounts named one of `users`, and the anonymous ones, that could take their logins. Roles (MariaDB: empty host) left out. */
export async function sameNameAccounts(a: Admin, users: string[]): Promise<Account[]> {
  return sql<Account>(a, 'read the accounts of the same name (mysql.user)',
    "SELECT User AS user, Host AS host FROM mysql.user WHERE (User IN (?) OR User = '') AND Host <> ''", [users]);
}

/**
 * How the server sees Rotor's logins to `dest`: the address they come from (read off a TCP
 * connection) and the host name the server resolves it to (USER() of an admin login made
 * the same way). When the admin may not log in from there, the address alone.
 */
export async function rotorSeenAs(a: Admin, dest: { host: string; port: number }): Promise<ClientHost> {
  const ip = clientIp(await localAddressTo(dest, a.where));
  let c: mysql.Connection | undefined;
  try {
    c = await mysql.createConnection({ host: dest.host, port: dest.port, user: a.addr.user, password: a.addr.password, connectTimeout: 10_000 });
    c.on('error', () => {});
    const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT USER() AS u');
    return seenClient(parseAccount(String(rows[0]?.u ?? '')).host, ip);
  } catch {
    return { ip };
  } finally {
    await c?.end().catch(() => {});
  }
}

/** The local address of a TCP connection to `dest`: where the server sees a client of this host come from. */
function localAddressTo(dest: { host: string; port: number }, where: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: dest.host, port: dest.port, timeout: 10_000 });
    s.once('connect', () => {
      resolve(s.localAddress ?? '');
      s.destroy();
    });
    s.once('timeout', () => s.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    s.once('error', (err) => reject(networkProblem(err, `${where} (at ${dest.host}:${dest.port}, where Rotor logs in as the account)`) ?? err));
  });
}

export const describeClient = (c: ClientHost): string => (c.name && c.ip ? `${c.name} (${c.ip})` : c.name ?? c.ip ?? 'unknown');

/** Preflight: every login Rotor makes as `users` on `host` lands on that very account. */
export async function refuseShadowed(a: Admin, users: string[], host: string, seen: ClientHost): Promise<void> {
  const accounts = await sameNameAccounts(a, users);
  for (const user of users) {
    const wanted = { user, host };
    // The clone may not exist yet: the account it will be.
    const all = accounts.some((x) => sameAccount(x, wanted)) ? accounts : [...accounts, wanted];
    const match = matchingAccount(all, user, seen);
    if (!match) throw unmatched(a, wanted, seen);
    if (!sameAccount(match, wanted)) throw shadowed(a, wanted, match, seen);
  }
}

function shadowed(a: Admin, wanted: Account, match: Account, seen: ClientHost): RotorError {
  return new RotorError(
    `${a.where}: a login as ${wanted.user} from where Rotor runs (seen as ${describeClient(seen)}) gets the account ${accountName(match)}, not ${accountName(wanted)}: Rotor would verify the new password against the wrong account`,
    {
      outcome: 'usage',
      hint: `drop or rename ${accountName(match)} if nothing uses it; or set verifyHost to an address of the server that Rotor reaches from a host ${accountName(wanted)} matches and ${accountName(match)} does not; or, if ${accountName(match)} is the account to rotate, set userHost: '${match.host}'`,
    },
  );
}

function unmatched(a: Admin, wanted: Account, seen: ClientHost): RotorError {
  return new RotorError(`${a.where}: ${accountName(wanted)} does not match where Rotor runs (seen as ${describeClient(seen)}), so Rotor cannot log in as it to verify a new password`, {
    outcome: 'usage',
    hint: `set verifyHost to an address of the server that Rotor reaches from a host '${wanted.host}' matches, or run Rotor from such a host`,
  });
}

/**
 * Why a login as `user` was refused or landed elsewhere, when another account of the name
 * explains it; undefined otherwise. Read from the server's own account list.
 */
export async function shadowNote(a: Admin, wanted: Account, seen: ClientHost): Promise<string | undefined> {
  const match = matchingAccount(await sameNameAccounts(a, [wanted.user]), wanted.user, seen);
  if (match && !sameAccount(match, wanted)) return `from where Rotor runs (seen as ${describeClient(seen)}) the server gives ${accountName(match)} instead`;
  return undefined;
}
