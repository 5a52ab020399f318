/**
 * `mysql-password`: rotates a MySQL or MariaDB account's password.
 *
 * - single: ALTER USER in place; the old password fails from apply on.
 * - alternating: accounts `name` and `name_clone` on the same host pattern; whenever the
 *   clone is about to become current it is emptied and given the grants of `name` again
 *   (grants.ts), so grants added to `name` later follow and grants taken away do not linger.
 *   Retire locks the account not current (ACCOUNT LOCK) — on the first rotation `name`
 *   itself: it cannot log in, and nothing it owns changes. Drain reads the process list,
 *   which shows other accounts' sessions only to an admin with PROCESS: preflight requires it.
 * - dual-password (MySQL 8.0.14+): RETAIN CURRENT PASSWORD at apply, DISCARD OLD PASSWORD
 *   at every retire — on the first one, the password from before Rotor. MariaDB has no dual
 *   passwords: preflight says so, at `rotor plan` time.
 *
 * On servers with dual passwords, setting a password in place (single, alternating) also
 * discards any retained one, so an account never keeps a second password Rotor did not set.
 */
import mysql from 'mysql2/promise';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps, TargetRef } from '../types.js';
import { drain, type Session } from '../shared/drain.js';
import { adoptedLogin, newLogin, otherLogin } from '../shared/spec.js';
import { adminCache, type AdminBase } from '../shared/admin-cache.js';
import { networkProblem } from '../shared/target-url.js';
import { userFor, type MysqlSpec, type MysqlValue } from './schema.js';
import { nativePasswordHash, serverKind, type ServerKind } from './server.js';
import { resyncClone, type GrantsDb } from './grants.js';

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

  /** `user` accepts `password` and nothing else (a retained second password is discarded too), and is unlocked. */
  async function setPassword(a: Admin, spec: MysqlSpec, user: string, password: string): Promise<string> {
    await sql(a, `set the password of ${user}`, `ALTER USER ${account(a, user, spec)} ${await identified(a, password)} ACCOUNT UNLOCK`);
    if ((await kindOf(a)).dualPassword) await discardOld(a, spec, user);
    return `set the password of ${user}@${spec.userHost}`;
  }

  const discardOld = (a: Admin, spec: MysqlSpec, user: string) =>
    sql(a, `discard the old password of ${user}`, `ALTER USER ${account(a, user, spec)} DISCARD OLD PASSWORD`);

  const showGrants = async (a: Admin, spec: MysqlSpec, user: string): Promise<string[]> =>
    (await sql<Record<string, string>>(a, `read the grants of ${user}`, `SHOW GRANTS FOR ${account(a, user, spec)}`)).map((r) => Object.values(r)[0]!);

  const grantsDb = async (a: Admin, spec: MysqlSpec): Promise<GrantsDb> => ({
    grantsOf: (user) => showGrants(a, spec, user),
    run: async (action, statement) => void (await sql(a, action, statement)),
    account: (user) => account(a, user, spec),
    userHost: spec.userHost,
    mariadb: (await kindOf(a)).mariadb,
  });

  /** alternating apply: the account not in use gets the password; the clone, the main's grants again. */
  async function applyAlternating(a: Admin, spec: MysqlSpec, pending: MysqlValue, current: MysqlValue | undefined): Promise<string> {
    if (pending.username === spec.username) return setPassword(a, spec, pending.username, pending.password);
    let detail: string;
    if (await accountExists(a, pending.username, spec)) {
      detail = await setPassword(a, spec, pending.username, pending.password);
    } else {
      await sql(a, `create ${pending.username}`, `CREATE USER ${account(a, pending.username, spec)} ${await identified(a, pending.password)}`);
      detail = `created ${pending.username}@${spec.userHost}`;
    }
    // Emptying the clone is safe only while nobody is on it: never when it is the current login.
    if (current?.username === pending.username) return detail;
    const { copied, dropped } = await resyncClone(await grantsDb(a, spec), spec.username, pending.username);
    return `${detail}; ${copied} grant${copied === 1 ? '' : 's'} copied from ${spec.username}${dropped ? `; ${dropped} grant${dropped === 1 ? '' : 's'} ${spec.username} no longer has revoked` : ''}`;
  }

  /** Whether SHOW CREATE USER says ACCOUNT LOCK; undefined when there is no such account. */
  async function isLocked(a: Admin, spec: MysqlSpec, user: string): Promise<boolean | undefined> {
    if (!(await accountExists(a, user, spec))) return undefined;
    const [row] = await sql<Record<string, string>>(a, `read the account ${user}`, `SHOW CREATE USER ${account(a, user, spec)}`);
    return /\bACCOUNT LOCK\b/.test(Object.values(row ?? {})[0] ?? '');
  }

  /**
   * The proof that needs no old password, so it holds for one Rotor never had: alternating,
   * the account not current is locked; otherwise the account has one password (apply set it,
   * retire discarded any retained one) and `current` logs in with it.
   */
  async function revokedProof(a: Admin, spec: MysqlSpec, current: MysqlValue): Promise<{ ok: boolean; detail: string }> {
    if (spec.strategy === 'alternating') {
      const other = otherLogin(spec.username, current.username);
      const locked = await isLocked(a, spec, other);
      if (locked === false) return { ok: false, detail: `${other}@${spec.userHost} is not locked` };
      return { ok: true, detail: locked ? `${other}@${spec.userHost} is locked` : `${other}@${spec.userHost} does not exist` };
    }
    const refused = await tryLogin(a, current);
    if (refused) return { ok: false, detail: `${a.where} refused the current password of ${current.username} (error ${refused})` };
    return { ok: true, detail: `${current.username} logs in with the current password, its only one` };
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
      if (spec.strategy === 'alternating' && !/GRANT (ALL PRIVILEGES|.*\bPROCESS\b.*) ON \*\.\*/.test(grants)) {
        // Without PROCESS the process list shows the admin's own threads only: drain would see
        // no client on the old account and lock it under them. Refused rather than noted, as
        // a note on a scheduled rotation is read by nobody until the outage.
        throw new RotorError(`the admin login ${me?.me ?? a.addr.user} of ${a.where} has no PROCESS privilege, so drain cannot see who is still logged in as the old account`, {
          outcome: 'usage', hint: `GRANT PROCESS ON *.* TO ${quoteAccount(me?.me ?? a.addr.user)}`,
        });
      }
      if (!(await accountExists(a, spec.username, spec))) {
        throw new RotorError(`account '${spec.username}'@'${spec.userHost}' does not exist at ${a.where}`, {
          outcome: 'usage', hint: `create it (CREATE USER '${spec.username}'@'${spec.userHost}') and grant it what the service needs, or fix \`username\` / \`userHost\``,
        });
      }
      return { notes: [`${kind.mariadb ? 'MariaDB' : 'MySQL'} ${kind.version}; admin ${me?.me ?? a.addr.user}`] };
    },

    async adoptValue({ spec, target, input }) {
      const a = admin(target);
      // Every strategy starts from `username`: it is where clients connect before Rotor.
      return { value: { ...adoptedLogin(spec, a.addr, spec.username, input), database: spec.database ?? '' } };
    },

    async generate({ spec, target, current }) {
      const a = admin(target);
      // Not the admin URL's database: that is often `mysql`, which the account may not open.
      return { value: { ...newLogin(spec, a.addr, userFor(spec, current)), database: spec.database ?? '' } };
    },

    async apply({ spec, target, pending, current }) {
      const a = admin(target);
      switch (spec.strategy) {
        case 'single':
          return { detail: await setPassword(a, spec, pending.username, pending.password) };
        case 'dual-password':
          await sql(a, `add a password to ${pending.username}`, `ALTER USER ${account(a, pending.username, spec)} ${await identified(a, pending.password)} RETAIN CURRENT PASSWORD`);
          return { detail: `new primary password for ${pending.username}; the old one retained` };
        case 'alternating':
          return { detail: await applyAlternating(a, spec, pending, current) };
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

    // `retiring` is not needed: what to revoke follows from `current` and the strategy, and
    // is the same whether the old value was Rotor's or came before it.
    async retire({ spec, target, current, emergency, signal }) {
      const a = admin(target);
      switch (spec.strategy) {
        case 'single':
          // MySQL 8 keeps a retained password through a plain ALTER USER: apply discarded it; again here, idempotent.
          if (!(await kindOf(a)).dualPassword) return { detail: 'the old password was replaced at apply' };
          await discardOld(a, spec, spec.username);
          return { detail: `the old password was replaced at apply; any retained one of ${spec.username} discarded` };
        case 'dual-password':
          await discardOld(a, spec, spec.username);
          return { detail: `discarded the retained password of ${spec.username}` };
        case 'alternating': {
          const other = otherLogin(spec.username, current.username);
          if (!(await accountExists(a, other, spec))) return { detail: `${other}@${spec.userHost} does not exist` };
          const drained = await drain({ login: other, policy: spec.drain, emergency, signal, sessions: sessionsOf(a, other) });
          await sql(a, `lock ${other}`, `ALTER USER ${account(a, other, spec)} ACCOUNT LOCK`);
          return { detail: `${drained}; ${other} locked` };
        }
      }
    },

    async checkRejected({ spec, target, retired, current }) {
      const a = admin(target);
      const proofs: string[] = [];
      if (retired) {
        const refused = await tryLogin(a, retired);
        if (!refused) return { rejected: false, detail: `${retired.username} still logs in with the old password` };
        proofs.push(`login as ${retired.username} with the old password refused (error ${refused})`);
      }
      // An engine from before `current` was part of this request gives none: the login attempt stands alone.
      if (!current) return { rejected: proofs.length > 0, detail: proofs.join('; ') || 'no current value to prove against' };
      const proof = await revokedProof(a, spec, current);
      return { rejected: proof.ok, detail: [...proofs, proof.detail].join('; ') };
    },

    async close() {
      await Promise.all(admins.all().map((pool) => pool.end().catch(() => {})));
      admins.clear();
    },
  } satisfies Rotator<MysqlSpec, MysqlValue>;
}

/** CURRENT_USER()'s `user@host` as an account name for a GRANT hint. */
function quoteAccount(me: string): string {
  const at = me.lastIndexOf('@');
  return at < 0 ? `'${me}'` : `'${me.slice(0, at)}'@'${me.slice(at + 1)}'`;
}

