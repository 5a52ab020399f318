/**
 * Which account a login lands on. MySQL and MariaDB name an account by user AND host
 * pattern: 'app'@'%' and 'app'@'localhost' are two accounts with two passwords. A client
 * logging in as `app` gets the account whose host pattern matches it and is the most
 * specific (a literal host before a pattern, `10.0.0.%` before `%`); an anonymous account
 * (''@'localhost') wins only with a strictly more specific host. So Rotor, logging in from
 * where it runs, may land on another account than the one it rotates — its verify would
 * test the wrong password — and a session of `app` in the process list may belong to
 * either account.
 *
 * The order follows MariaDB's (sql_acl_getsort.ic, find_by_username_or_anon); MySQL sorts
 * the same way in every case that matters here (literal hosts first, then the pattern with
 * the longest literal part). The server's own CURRENT_USER() after a login stays the proof;
 * this only predicts it, at `rotor plan` time, and attributes sessions during drain.
 *
 * @example
 *   const accounts = [{ user: 'app', host: '%' }, { user: 'app', host: 'localhost' }];
 *   matchingAccount(accounts, 'app', { name: 'localhost', ip: '127.0.0.1' });
 *   // { user: 'app', host: 'localhost' }
 */

/** A row of mysql.user: the user name ('' for an anonymous account) and its host pattern. */
export interface Account {
  user: string;
  host: string;
}

/** A client as the server sees it: the name it resolved the address to, and the address. */
export interface ClientHost {
  name?: string;
  ip?: string;
}

/** MariaDB's maximum host length, the `maxlen` of its specificity formula. */
const MAX_HOST = 255;

/**
 * How generic a host pattern is: smaller is more specific (0 for a literal host). MariaDB's
 * get_magic_sort for one host: literal characters N, `_` count M, `%` runs K, and P the
 * literal prefix before the first wildcard, to break ties the way older servers did.
 */
export function hostGenerality(pattern: string): number {
  let n = 0, m = 0, k = 0, p = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '%') {
      if (!k && !m) p = n;
      k++;
      while (pattern[i + 1] === '%') i++;
    } else if (c === '_') {
      if (!k && !m) p = n;
      m++;
    } else {
      if (c === '\\' && i + 1 < pattern.length) i++;
      n++;
    }
  }
  k = Math.min(k, 31);
  m = Math.min(m, 31);
  const l = k ? MAX_HOST - n - m : 0;
  const d = MAX_HOST + 1;
  const d1 = Math.min(d, 32);
  return l > m ? (((l * 2 + 1) * d + k) * d1 + m) * d + p : ((m * 2 * d + l) * d1 + k) * d + p;
}

/** Account order: more specific host first; a named account before an anonymous one on the same host. */
function generality(a: Account): number {
  return hostGenerality(a.host) * 2 + (a.user === '' ? 1 : 0);
}

/** `a` before `b` in the server's list: MariaDB breaks equal ties by host name, descending ('localhost' before '127.0.0.1'). */
function serverOrder(a: Account, b: Account): number {
  return generality(a) - generality(b) || (a.host < b.host ? 1 : a.host > b.host ? -1 : 0);
}

/** A LIKE-style host pattern (`%` any run, `_` one character, `\` escapes) as a regular expression. */
function likeRegExp(pattern: string, caseless: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else re += c === '%' ? '.*' : c === '_' ? '.' : escapeRe(c);
  }
  return new RegExp(`^${re}$`, caseless ? 'is' : 's');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** An IPv4 address as a 32-bit number, or undefined. */
function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** Whether an account's host pattern matches the client: `ip/netmask`, else the pattern against the name (any case) or the address. */
export function hostMatches(pattern: string, client: ClientHost): boolean {
  if (pattern === '') return true;
  const masked = /^([\d.]+)\/([\d.]+)$/.exec(pattern);
  if (masked && client.ip !== undefined) {
    const [net, mask, ip] = [ipv4(masked[1]!), ipv4(masked[2]!), ipv4(client.ip)];
    if (net !== undefined && mask !== undefined && ip !== undefined) return ((ip & mask) >>> 0) === ((net & mask) >>> 0);
  }
  return (client.name !== undefined && likeRegExp(pattern, true).test(client.name)) || (client.ip !== undefined && likeRegExp(pattern, false).test(client.ip));
}

/**
 * The account the server gives a login as `user` from `client`, among `accounts` (those
 * named `user` and the anonymous ones); undefined when none matches (the login is refused).
 */
export function matchingAccount(accounts: Account[], user: string, client: ClientHost): Account | undefined {
  const first = (name: string) => accounts.filter((a) => a.user === name).sort(serverOrder).find((a) => hostMatches(a.host, client));
  const named = first(user);
  const anonymous = user === '' ? undefined : first('');
  if (anonymous && (!named || generality(anonymous) < generality(named))) return anonymous;
  return named;
}

export const sameAccount = (a: Account, b: Account): boolean => a.user === b.user && a.host.toLowerCase() === b.host.toLowerCase();

/** 'user'@'host', for messages and hints (names are checked by the schema; anonymous shows as ''). */
export const accountName = (a: Account): string => `'${a.user}'@'${a.host}'`;

/** CURRENT_USER()'s `user@host` as an account (the user part may hold @, the host never does). */
export function parseAccount(text: string): Account {
  const at = text.lastIndexOf('@');
  return at < 0 ? { user: text, host: '' } : { user: text.slice(0, at), host: text.slice(at + 1) };
}

/**
 * A process-list HOST (`10.0.0.7:51432`, `app-1.internal:40112`, `localhost` for a socket) as
 * a client: the server shows a resolved name or, when it has none, the address.
 */
export function processClient(host: string): ClientHost {
  const bare = /:\d+$/.test(host) && host !== 'localhost' ? host.replace(/:\d+$/, '') : host;
  return isIp(bare) ? { ip: bare } : { name: bare };
}

const isIp = (text: string) => ipv4(text) !== undefined || (text.includes(':') && /^[0-9a-f:.]+$/i.test(text));

/** A socket's local address as the server sees the client: IPv4 without its IPv6 mapping. */
export const clientIp = (address: string): string => address.replace(/^::ffff:(?=\d+\.)/i, '');

/**
 * A client as the server names it from USER()'s host part and the address it connected from.
 * A resolved name differs from the address; an unresolved one is the address itself.
 */
export function seenClient(userHost: string, ip: string | undefined): ClientHost {
  return userHost && userHost !== ip ? { name: userHost, ip } : { ip: ip ?? userHost };
}
