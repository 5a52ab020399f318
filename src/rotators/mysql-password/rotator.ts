/**
 * `mysql-password`: rotates a MySQL or MariaDB account's password.
 *
 * - single: ALTER USER in place; the old password fails from apply on.
 * - alternating: accounts `name` and `name_clone` on the same host pattern; whenever the
 *   clone is about to become current it is emptied and given the grants, roles and default
 *   role of `name` again (grants.ts), so grants added to `name` later follow and grants taken
 *   away do not linger. Retire locks the account not current (ACCOUNT LOCK) — on the first
 *   rotation `name` itself: it cannot log in, and nothing it owns changes. Drain reads the
 *   process list, which shows other accounts' sessions only to an admin with PROCESS:
 *   preflight requires it.
 * - dual-password (MySQL 8.0.14+): RETAIN CURRENT PASSWORD at apply, DISCARD OLD PASSWORD
 *   at every retire — on the first one, the password from before Rotor. MariaDB has no dual
 *   passwords: preflight says so, at `rotor plan` time.
 *
 * An account is a user AND a host pattern: Rotor's own logins must land on the rotated one
 * (hosts.ts, login.ts), and drain counts only its sessions. Passwords follow the server's
 * password policy (policy.ts). On servers with dual passwords, setting a password in place
 * (single, alternating) also discards any retained one, so an account never keeps a second
 * password Rotor did not set.
 */
import mysql from 'mysql2/promise';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps, TargetRef } from '../types.js';
import { drain, type Session } from '../shared/drain.js';
import { adoptedLogin, newLogin, otherLogin } from '../shared/spec.js';
import { adminCache } from '../shared/admin-cache.js';
import { matchingAccount, processClient, sameAccount, type Account } from './accounts.js';
import { account, accountExists, kindOf, showGrants, sql, type Admin } from './admin.js';
import { mariadbDefaultRole, resyncClone, type GrantsDb } from './grants.js';
import { rotorSeenAs, sameNameAccounts, shadowNote } from './hosts.js';
import { checkSession, logIn, normalizeRoles, sessionAccount, type Dest } from './login.js';
import { hasPolicy, lengthFor, policyFrom, policyPassword, policyProblem, unmet, type PasswordPolicy } from './policy.js';
import { preflight } from './preflight.js';
import { userFor, type MysqlSpec, type MysqlValue } from './schema.js';
import { nativePasswordHash } from './server.js';

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
  const admin = (target: TargetRef | undefined, signal?: AbortSignal): Admin => ({ ...admins.get(target), signal });
  const acct = (a: Admin, user: string, spec: MysqlSpec) => account(a, user, spec.userHost);

  /** Where Rotor's own logins as the account go: `verifyHost`, else where clients connect. */
  const loginDest = (a: Admin, spec: MysqlSpec, value?: MysqlValue): Dest => ({
    host: spec.verifyHost ?? value?.host ?? spec.host ?? a.addr.host, port: value?.port ?? spec.port ?? a.addr.port, where: a.where, signal: a.signal,
  });

  /** The server's password policy, read afresh each time: a policy changed since generate is the one apply must meet. */
  async function policyOf(a: Admin): Promise<PasswordPolicy> {
    const mariadb = (await kindOf(a)).mariadb;
    const plugins = mariadb
      ? (await sql<{ name: string }>(a, 'read its password validation plugins', "SELECT PLUGIN_NAME AS name FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'PASSWORD VALIDATION' AND PLUGIN_STATUS = 'ACTIVE'")).map((r) => r.name)
      : [];
    const rows = await sql<{ Variable_name: string; Value: string }>(a, 'read its password policy settings',
      "SHOW GLOBAL VARIABLES WHERE Variable_name LIKE 'simple\\_password\\_check%' OR Variable_name LIKE 'validate\\_password%' OR Variable_name IN ('strict_password_validation', 'cracklib_password_check_dictionary')");
    return policyFrom({ mariadb, plugins, variables: new Map(rows.map((r) => [r.Variable_name, String(r.Value)])) });
  }

  /**
   * Before a password reaches the server: MariaDB takes Rotor's hash past its validation
   * plugins, so Rotor holds the password to the policy itself (and MySQL would refuse it).
   */
  async function requirePolicy(a: Admin, user: string, password: string): Promise<void> {
    const policy = await policyOf(a);
    if (policy.refusesHashes) throw policyProblem(policy, a.where, password.length)!;
    const gaps = unmet(policy, password);
    if (!gaps.length) return;
    throw new RotorError(`the new password of ${user} does not meet the password policy of ${a.where} (${policy.enforcedBy.join(', ')}): ${gaps.join(', ')}; Rotor does not set a password past the policy`, {
      outcome: 'usage', hint: 'the policy changed after the password was generated: run the rotation again for a password generated to the policy in force',
    });
  }

  /** `IDENTIFIED …` for a password: a native hash on MariaDB (no plaintext on the wire), the password on MySQL. */
  async function identified(a: Admin, password: string): Promise<string> {
    return (await kindOf(a)).mariadb ? `IDENTIFIED BY PASSWORD ${a.conn.escape(nativePasswordHash(password))}` : `IDENTIFIED BY ${a.conn.escape(password)}`;
  }

  /** `user` accepts `password` and nothing else (a retained second password is discarded too), and is unlocked. */
  async function setPassword(a: Admin, spec: MysqlSpec, user: string, password: string): Promise<string> {
    await sql(a, `set the password of ${user}`, `ALTER USER ${acct(a, user, spec)} ${await identified(a, password)} ACCOUNT UNLOCK`);
    if ((await kindOf(a)).dualPassword) await discardOld(a, spec, user);
    return `set the password of ${user}@${spec.userHost}`;
  }

  const discardOld = (a: Admin, spec: MysqlSpec, user: string) =>
    sql(a, `discard the old password of ${user}`, `ALTER USER ${acct(a, user, spec)} DISCARD OLD PASSWORD`);

  /** The account's default roles as SET DEFAULT ROLE takes them: MariaDB prints its one in SHOW GRANTS, MySQL keeps them in mysql.default_roles. */
  async function defaultRolesOf(a: Admin, spec: MysqlSpec, user: string, grants: string[]): Promise<string> {
    if ((await kindOf(a)).mariadb) return mariadbDefaultRole(grants, user, spec.userHost);
    const rows = await sql<{ u: string; h: string }>(a, `read the default roles of ${user}`,
      'SELECT DEFAULT_ROLE_USER AS u, DEFAULT_ROLE_HOST AS h FROM mysql.default_roles WHERE USER = ? AND HOST = ? ORDER BY 1, 2', [user, spec.userHost]);
    return rows.length ? rows.map((r) => `${a.conn.escape(r.u)}@${a.conn.escape(r.h)}`).join(', ') : 'NONE';
  }

  const grantsDb = async (a: Admin, spec: MysqlSpec): Promise<GrantsDb> => ({
    grantsOf: (user) => showGrants(a, user, spec.userHost),
    defaultRolesOf: (user, grants) => defaultRolesOf(a, spec, user, grants),
    run: async (action, statement) => void (await sql(a, action, statement)),
    account: (user) => acct(a, user, spec),
    userHost: spec.userHost,
    mariadb: (await kindOf(a)).mariadb,
  });

  /** alternating apply: the account not in use gets the password; the clone, the main's grants again. */
  async function applyAlternating(a: Admin, spec: MysqlSpec, pending: MysqlValue, current: MysqlValue | undefined): Promise<string> {
    if (pending.username === spec.username) return setPassword(a, spec, pending.username, pending.password);
    let detail: string;
    if (await accountExists(a, pending.username, spec.userHost)) {
      detail = await setPassword(a, spec, pending.username, pending.password);
    } else {
      await sql(a, `create ${pending.username}`, `CREATE USER ${acct(a, pending.username, spec)} ${await identified(a, pending.password)}`);
      detail = `created ${pending.username}@${spec.userHost}`;
    }
    // Emptying the clone is safe only while nobody is on it: never when it is the current login.
    if (current?.username === pending.username) return detail;
    const { copied, dropped } = await resyncClone(await grantsDb(a, spec), spec.username, pending.username);
    return `${detail}; ${copied} grant${copied === 1 ? '' : 's'} copied from ${spec.username}${dropped ? `; ${dropped} grant${dropped === 1 ? '' : 's'} ${spec.username} no longer has revoked` : ''}`;
  }

  /** Whether SHOW CREATE USER says ACCOUNT LOCK; undefined when there is no such account. */
  async function isLocked(a: Admin, spec: MysqlSpec, user: string): Promise<boolean | undefined> {
    if (!(await accountExists(a, user, spec.userHost))) return undefined;
    const [row] = await sql<Record<string, string>>(a, `read the account ${user}`, `SHOW CREATE USER ${acct(a, user, spec)}`);
    return /\bACCOUNT LOCK\b/.test(Object.values(row ?? {})[0] ?? '');
  }

  /**
   * What verify expects of a login as `value`: its own account; on a clone the main's
   * default roles active (alternating resynced them); the check query proving privileges.
   */
  async function expectedOf(a: Admin, spec: MysqlSpec, value: MysqlValue) {
    let roles = '';
    if (spec.strategy === 'alternating' && (await accountExists(a, spec.username, spec.userHost))) {
      roles = normalizeRoles(await defaultRolesOf(a, spec, spec.username, await showGrants(a, spec.username, spec.userHost)));
    }
    const query = spec.verifyQuery ?? (value.database ? `SHOW TABLES FROM ${a.conn.escapeId(value.database)}` : undefined);
    return { account: { user: value.username, host: spec.userHost }, roles, query };
  }

  /** A refused verify login, said plainly — with the account that took the login, when another one of the name did. */
  async function refusedVerify(a: Admin, spec: MysqlSpec, value: MysqlValue, errno: number): Promise<RotorError> {
    const wanted: Account = { user: value.username, host: spec.userHost };
    const note = await shadowNote(a, wanted, await rotorSeenAs(a, loginDest(a, spec, value))).catch(() => undefined);
    return new RotorError(`${a.where} refused the new password of ${value.username} (error ${errno})${note ? `: ${note}` : ''}`, {
      outcome: 'rolled-back', ...(note ? { hint: 'set verifyHost, or drop or rename the other account; `rotor plan` says more' } : {}),
    });
  }

  /**
   * The proof that needs no old password, so it holds for one Rotor never had: alternating,
   * the account not current is locked; otherwise the account has one password (apply set it,
   * retire discarded any retained one) and `current` logs in to it with that one.
   */
  async function revokedProof(a: Admin, spec: MysqlSpec, current: MysqlValue): Promise<{ ok: boolean; detail: string }> {
    if (spec.strategy === 'alternating') {
      const other = otherLogin(spec.username, current.username);
      const locked = await isLocked(a, spec, other);
      if (locked === false) return { ok: false, detail: `${other}@${spec.userHost} is not locked` };
      return { ok: true, detail: locked ? `${other}@${spec.userHost} is locked` : `${other}@${spec.userHost} does not exist` };
    }
    const r = await logIn(loginDest(a, spec, current), current, sessionAccount);
    if ('refused' in r) return { ok: false, detail: `${a.where} refused the current password of ${current.username} (error ${r.refused})` };
    if (!sameAccount(r.ok, { user: current.username, host: spec.userHost })) return { ok: false, detail: `the current password of ${current.username} logs in to ${r.ok.user}@${r.ok.host}, not ${current.username}@${spec.userHost}` };
    return { ok: true, detail: `${current.username} logs in with the current password, its only one` };
  }

  /**
   * The sessions of the account `user`@userHost. The process list names the user only, and
   * HOST is the client (name or address, and port): a session counts when the server would
   * give that client this account rather than another of the same name.
   */
  const sessionsOf = (a: Admin, spec: MysqlSpec, user: string) => {
    let accounts: Promise<Account[]> | undefined;
    const wanted = { user, host: spec.userHost };
    return async (): Promise<Session[]> => {
      accounts ??= sameNameAccounts(a, [user]);
      const rows = await sql<{ host: string; db: string | null }>(a, 'read the process list',
        'SELECT HOST AS host, DB AS db FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()', [user]);
      const known = await accounts;
      return rows
        .filter((r) => {
          const match = matchingAccount(known, user, processClient(r.host));
          return !match || sameAccount(match, wanted); // a client no account matches is counted: better a held retire than a dropped session
        })
        .map((r) => ({ client: r.host, application: r.db ? `db ${r.db}` : '' }));
    };
  };

  return {
    async preflight({ spec, target, signal }) {
      const a = admin(target, signal);
      return preflight(a, spec, { policyOf, loginDest: (x, s) => loginDest(x, s) });
    },

    async adoptValue({ spec, target, input, signal }) {
      const a = admin(target, signal);
      // Every strategy starts from `username`: it is where clients connect before Rotor.
      return { value: { ...adoptedLogin(spec, a.addr, spec.username, input), database: spec.database ?? '' } };
    },

    async generate({ spec, target, current, signal }) {
      const a = admin(target, signal);
      const policy = await policyOf(a);
      const problem = policyProblem(policy, a.where, spec.passwordLength);
      if (problem) throw problem;
      // Not the admin URL's database: that is often `mysql`, which the account may not open.
      const login = newLogin(spec, a.addr, userFor(spec, current));
      const password = hasPolicy(policy) ? policyPassword(policy, lengthFor(policy, spec.passwordLength)) : login.password;
      return { value: { ...login, password, database: spec.database ?? '' } };
    },

    async apply({ spec, target, pending, current, signal }) {
      const a = admin(target, signal);
      await requirePolicy(a, pending.username, pending.password);
      switch (spec.strategy) {
        case 'single':
          return { detail: await setPassword(a, spec, pending.username, pending.password) };
        case 'dual-password':
          await sql(a, `add a password to ${pending.username}`, `ALTER USER ${acct(a, pending.username, spec)} ${await identified(a, pending.password)} RETAIN CURRENT PASSWORD`);
          return { detail: `new primary password for ${pending.username}; the old one retained` };
        case 'alternating':
          return { detail: await applyAlternating(a, spec, pending, current) };
      }
    },

    async verify({ spec, target, value, signal }) {
      const a = admin(target, signal);
      const expected = await expectedOf(a, spec, value);
      const r = await logIn(loginDest(a, spec, value), value, (c) => checkSession(c, expected, a.where));
      if ('refused' in r) throw await refusedVerify(a, spec, value, r.refused);
      return { detail: r.ok };
    },

    async undoApply({ spec, target, pending, current, signal }) {
      const a = admin(target, signal);
      switch (spec.strategy) {
        case 'single':
          if (!current) return { detail: `first rotation: the password ${pending.username} had before Rotor cannot be restored; the pending value stays accepted and stored` };
          return { detail: await setPassword(a, spec, current.username, current.password) };
        case 'dual-password':
          if (!current) return { detail: 'first rotation: the retained password is the one set before Rotor; the pending value stays accepted and stored' };
          await sql(a, `restore the password of ${current.username}`, `ALTER USER ${acct(a, current.username, spec)} ${await identified(a, current.password)}`);
          await discardOld(a, spec, current.username);
          return { detail: `${current.username} back on the current password only` };
        case 'alternating':
          if (current?.username === pending.username || !(await accountExists(a, pending.username, spec.userHost))) return { detail: 'nothing to undo' };
          await sql(a, `lock ${pending.username}`, `ALTER USER ${acct(a, pending.username, spec)} ACCOUNT LOCK`);
          return { detail: `${pending.username} locked` };
      }
    },

    // `retiring` is not needed: what to revoke follows from `current` and the strategy, and
    // is the same whether the old value was Rotor's or came before it.
    async retire({ spec, target, current, emergency, signal }) {
      const a = admin(target, signal);
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
          if (!(await accountExists(a, other, spec.userHost))) return { detail: `${other}@${spec.userHost} does not exist` };
          const drained = await drain({ login: `'${other}'@'${spec.userHost}'`, policy: spec.drain, emergency, signal, sessions: sessionsOf(a, spec, other) });
          await sql(a, `lock ${other}`, `ALTER USER ${acct(a, other, spec)} ACCOUNT LOCK`);
          return { detail: `${drained}; ${other} locked` };
        }
      }
    },

    async checkRejected({ spec, target, retired, current, signal }) {
      const a = admin(target, signal);
      const proofs: string[] = [];
      if (retired) {
        const r = await logIn(loginDest(a, spec, retired), retired, sessionAccount);
        if (!('refused' in r)) return { rejected: false, detail: `${retired.username} still logs in with the old password` };
        proofs.push(`login as ${retired.username} with the old password refused (error ${r.refused})`);
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
