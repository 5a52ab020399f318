/**
 * `mysql-password`: rotates a MySQL or MariaDB account's password.
 *
 * - single: ALTER USER in place; the old password fails from apply on.
 * - alternating: accounts `name` and `name_clone` on the same host pattern; the clone gets
 *   the grants of `name` copied at every rotation (SHOW GRANTS), so grants added to
 *   `name` later follow. Retire locks the old account (ACCOUNT LOCK): it cannot log in,
 *   and nothing it owns changes.
 * - dual-password (MySQL 8.0.14+): RETAIN CURRENT PASSWORD at apply, DISCARD OLD PASSWORD
 *   at retire. MariaDB has no dual passwords: preflight says so, at `rotor plan` time.
 */
import mysql from 'mysql2/promise';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps, TargetRef } from '../types.js';
import { drain, type Session } from '../shared/drain.js';
import { newLogin } from '../shared/spec.js';
import { adminCache, type AdminBase } from '../shared/admin-cache.js';
import { networkProblem } from '../shared/target-url.js';
import { userFor, type MysqlSpec, type MysqlValue } from './schema.js';
import { nativePasswordHash, serverKind, type ServerKind } from './server.js';

type Admin = AdminBase & { conn: mysql.Pool };

/** Server error numbers that mean "this login is refused": access denied, account locked. */
const LOGIN_REFUSED = new Set([1045, 4151, 3118]);

function adminProblem(err: unknown, a: Admin, action: string): RotorError {
  const net = networkProblem(err, a.where);
  if (net) return net;
  const errno = (err as { errno?: number }).errno;
  const server = err instanceof Error ? err.message : String(err);
  const user = a.addr.user || '(none)';
  if (errno === 1045) {
    return new RotorError(`${a.where} refused the admin login ${user}`, { outcome: 'usage', hint: `check the user and password in targets.${a.target.name}.url`, cause: err });
  }
  if (errno === 1227 || errno === 1044 || errno === 1142 || errno === 1410) {
    return new RotorError(`the admin login ${user} of ${a.where} may not ${action}: ${server}`, {
      outcome: 'usage', hint: `GRANT CREATE USER, SELECT ON *.* TO ${user} WITH GRANT OPTION (grants are copied to the clone), or use an account that has them`, cause: err,
    });
  }
  return new RotorError(`${a.where} could not ${action}: ${server}`, { outcome: 'rolled-back', cause: err });
}

export function createMysqlRotator(_deps: RotatorDeps) {
  const admins = adminCache({
    type: 'mysql-password',
    defaultPort: 3306,
    open: (_target, addr) => {
      const pool = mysql.createPool({
        host: addr.host, port: addr.port, user: addr.user, password: addr.password, database: addr.database || undefined,
        connectionLimit: 8, connectTimeout: 10_000, multipleStatements: false,
      });
      pool.on('connection', (c) => c.on('error', () => {}));
      return pool;
    },
  });
  const admin = (target: TargetRef | undefined): Admin => admins.get(target);
  const kinds = new Map<mysql.Pool, Promise<ServerKind>>();

  async function sql<R = mysql.RowDataPacket>(a: Admin, action: string, text: string, params: unknown[] = []): Promise<R[]> {
    try {
      const [rows] = await a.conn.query(text, params);
      return rows as R[];
    } catch (err) {
      throw adminProblem(err, a, action);
    }
  }

  const kindOf = (a: Admin): Promise<ServerKind> => {
    let kind = kinds.get(a.conn);
    if (!kind) kinds.set(a.conn, (kind = sql<{ v: string }>(a, 'read its version', 'SELECT VERSION() AS v').then((r) => serverKind(r[0]?.v ?? ''))));
    return kind;
  };

  const account = (a: Admin, user: string, spec: MysqlSpec) => `${a.conn.escape(user)}@${a.conn.escape(spec.userHost)}`;

  async function accountExists(a: Admin, user: string, spec: MysqlSpec): Promise<boolean> {
    try {
      await a.conn.query(`SHOW GRANTS FOR ${account(a, user, spec)}`);
      return true;
    } catch (err) {
      if ((err as { errno?: number }).errno === 1141) return false; // no such grant: no such account
      throw adminProblem(err, a, `read the grants of ${user}`);
    }
  }

  /** `IDENTIFIED …` for a password: a native hash on MariaDB (no plaintext on the wire), the password on MySQL. */
  async function identified(a: Admin, password: string): Promise<string> {
    return (await kindOf(a)).mariadb ? `IDENTIFIED BY PASSWORD ${a.conn.escape(nativePasswordHash(password))}` : `IDENTIFIED BY ${a.conn.escape(password)}`;
  }

  async function setPassword(a: Admin, spec: MysqlSpec, user: string, password: string): Promise<string> {
    await sql(a, `set the password of ${user}`, `ALTER USER ${account(a, user, spec)} ${await identified(a, password)} ACCOUNT UNLOCK`);
    return `set the password of ${user}@${spec.userHost}`;
  }

  /** Copies the grants of `from` to `to`, leaving out any password clause SHOW GRANTS prints. */
  async function copyGrants(a: Admin, spec: MysqlSpec, from: string, to: string): Promise<number> {
    const rows = await sql<Record<string, string>>(a, `read the grants of ${from}`, `SHOW GRANTS FOR ${account(a, from, spec)}`);
    const source = new RegExp(`TO [\`']${escapeRe(from)}[\`']@[\`']${escapeRe(spec.userHost)}[\`']`);
    let n = 0;
    for (const row of rows) {
      const grant = Object.values(row)[0]!;
      if (!source.test(grant)) continue;
      const statement = grant
        .replace(source, `TO ${account(a, to, spec)}`)
        .replace(/ IDENTIFIED (BY PASSWORD|VIA|WITH) .*?(?= WITH | REQUIRE |$)/, '');
      if (/^SET DEFAULT ROLE/i.test(statement)) continue;
      await sql(a, `grant to ${to}`, statement);
      n++;
    }
    return n;
  }

  const sessionsOf = (a: Admin, user: string) => async (): Promise<Session[]> => {
    const rows = await sql<{ host: string; db: string | null }>(a, 'read the process list',
      'SELECT HOST AS host, DB AS db FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()', [user]);
    return rows.map((r) => ({ client: r.host, application: r.db ? `db ${r.db}` : '' }));
  };

  /** Logs in as `value`; the errno of a refused login, or undefined when it worked. */
  async function tryLogin(a: Admin, value: MysqlValue, check?: (c: mysql.Connection) => Promise<void>): Promise<number | undefined> {
    let c: mysql.Connection;
    try {
      c = await mysql.createConnection({ host: value.host, port: value.port, user: value.username, password: value.password, database: value.database || undefined, connectTimeout: 10_000 });
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno !== undefined && LOGIN_REFUSED.has(errno)) return errno;
      throw networkProblem(err, `${a.where} (as ${value.username})`) ?? err;
    }
    c.on('error', () => {});
    try {
      await check?.(c);
      return undefined;
    } finally {
      await c.end().catch(() => {});
    }
  }

  return {
    async preflight({ spec, target }) {
      const a = admin(target);
      const kind = await kindOf(a);
      const [me] = await sql<{ me: string }>(a, 'read its own account', 'SELECT CURRENT_USER() AS me');
      if (spec.strategy === 'dual-password' && !kind.dualPassword) {
        throw new RotorError(`${a.where} runs ${kind.mariadb ? 'MariaDB' : 'MySQL'} ${kind.version}, which has no dual passwords (RETAIN CURRENT PASSWORD needs MySQL 8.0.14 or later)`, {
          outcome: 'usage', hint: 'use strategy: alternating for the same zero-downtime rotation with two accounts',
        });
      }
      const grants = (await sql<Record<string, string>>(a, 'read its own grants', 'SHOW GRANTS')).map((r) => Object.values(r)[0]!).join('\n');
      if (!/GRANT (ALL PRIVILEGES|.*CREATE USER.*) ON \*\.\*/.test(grants)) {
        throw new RotorError(`the admin login ${me?.me ?? a.addr.user} of ${a.where} has no CREATE USER privilege`, {
          outcome: 'usage', hint: `GRANT CREATE USER ON *.* TO ${a.addr.user}${spec.strategy === 'alternating' ? ' WITH GRANT OPTION (and the privileges to copy to the clone)' : ''}`,
        });
      }
      if (!(await accountExists(a, spec.username, spec))) {
        throw new RotorError(`account '${spec.username}'@'${spec.userHost}' does not exist at ${a.where}`, {
          outcome: 'usage', hint: `create it (CREATE USER '${spec.username}'@'${spec.userHost}') and grant it what the service needs, or fix \`username\` / \`userHost\``,
        });
      }
      return { notes: [`${kind.mariadb ? 'MariaDB' : 'MySQL'} ${kind.version}; admin ${me?.me ?? a.addr.user}`] };
    },

    async generate({ spec, target, current }) {
      const a = admin(target);
      // Not the admin URL's database: that is often `mysql`, which the account may not open.
      return { value: { ...newLogin(spec, a.addr, userFor(spec, current)), database: spec.database ?? '' } };
    },

    async apply({ spec, target, pending }) {
      const a = admin(target);
      switch (spec.strategy) {
        case 'single':
          return { detail: await setPassword(a, spec, pending.username, pending.password) };
        case 'dual-password':
          await sql(a, `add a password to ${pending.username}`, `ALTER USER ${account(a, pending.username, spec)} ${await identified(a, pending.password)} RETAIN CURRENT PASSWORD`);
          return { detail: `new primary password for ${pending.username}; the old one retained` };
        case 'alternating': {
          if (pending.username === spec.username) return { detail: await setPassword(a, spec, pending.username, pending.password) };
          let detail: string;
          if (await accountExists(a, pending.username, spec)) {
            detail = await setPassword(a, spec, pending.username, pending.password);
          } else {
            await sql(a, `create ${pending.username}`, `CREATE USER ${account(a, pending.username, spec)} ${await identified(a, pending.password)}`);
            detail = `created ${pending.username}@${spec.userHost}`;
          }
          const copied = await copyGrants(a, spec, spec.username, pending.username);
          return { detail: `${detail}; ${copied} grant${copied === 1 ? '' : 's'} copied from ${spec.username}` };
        }
      }
    },

    async verify({ target, value }) {
      const a = admin(target);
      const refused = await tryLogin(a, value, async (c) => {
        const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS me');
        const me = String(rows[0]?.me ?? '');
        if (!me.startsWith(`${value.username}@`)) throw new Error(`logged in, but as ${me || 'nobody'} instead of ${value.username}`);
      });
      if (refused) throw new RotorError(`${a.where} refused the new password of ${value.username} (error ${refused})`, { outcome: 'rolled-back' });
      return { detail: `logged in as ${value.username}` };
    },

    async undoApply({ spec, target, pending, current }) {
      const a = admin(target);
      switch (spec.strategy) {
        case 'single':
          if (!current) return { detail: `first rotation: the password ${pending.username} had before Rotor cannot be restored; the pending value stays accepted and stored` };
          return { detail: await setPassword(a, spec, current.username, current.password) };
        case 'dual-password':
          if (!current) return { detail: 'first rotation: the retained password is the one set before Rotor; the pending value stays accepted and stored' };
          await sql(a, `restore the password of ${current.username}`, `ALTER USER ${account(a, current.username, spec)} ${await identified(a, current.password)}`);
          await sql(a, `discard the new password of ${current.username}`, `ALTER USER ${account(a, current.username, spec)} DISCARD OLD PASSWORD`);
          return { detail: `${current.username} back on the current password only` };
        case 'alternating':
          if (current?.username === pending.username || !(await accountExists(a, pending.username, spec))) return { detail: 'nothing to undo' };
          await sql(a, `lock ${pending.username}`, `ALTER USER ${account(a, pending.username, spec)} ACCOUNT LOCK`);
          return { detail: `${pending.username} locked` };
      }
    },

    async retire({ spec, target, retiring, current, emergency, signal }) {
      const a = admin(target);
      switch (spec.strategy) {
        case 'single':
          return { detail: 'the old password was replaced at apply' };
        case 'dual-password':
          await sql(a, `discard the old password of ${retiring.username}`, `ALTER USER ${account(a, retiring.username, spec)} DISCARD OLD PASSWORD`);
          return { detail: `discarded the old password of ${retiring.username}` };
        case 'alternating': {
          if (retiring.username === current.username) return { detail: 'nothing to retire' };
          const drained = await drain({ login: retiring.username, policy: spec.drain, emergency, signal, sessions: sessionsOf(a, retiring.username) });
          await sql(a, `lock ${retiring.username}`, `ALTER USER ${account(a, retiring.username, spec)} ACCOUNT LOCK`);
          return { detail: `${drained}; ${retiring.username} locked` };
        }
      }
    },

    async checkRejected({ target, retired }) {
      const a = admin(target);
      const refused = await tryLogin(a, retired);
      return refused ? { rejected: true, detail: `login as ${retired.username} with the old password refused (error ${refused})` } : { rejected: false };
    },

    async close() {
      await Promise.all(admins.all().map((pool) => pool.end().catch(() => {})));
      admins.clear();
    },
  } satisfies Rotator<MysqlSpec, MysqlValue>;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

