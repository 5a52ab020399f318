/**
 * alternating: the clone holds exactly the main account's privileges and roles. Copying
 * grants only adds, so a privilege taken from the main (REVOKE DELETE … FROM app) would live
 * on in the clone; each time the clone is about to become current, it is therefore emptied
 * (REVOKE ALL PRIVILEGES, GRANT OPTION, and its roles) and filled again from SHOW GRANTS of
 * the main. Never while the clone is current: until its rotation is verified, nobody uses it.
 *
 * @example
 *   const r = await resyncClone(db, 'shop', 'shop_clone');
 *   // { copied: 3, dropped: 1 }: the clone held one grant line shop no longer has
 */

/** The admin connection as grants.ts needs it; statements are built from escaped names only. */
export interface GrantsDb {
  /** SHOW GRANTS FOR the account, one string per row. */
  grantsOf(user: string): Promise<string[]>;
  /**
   * The account's default roles as SET DEFAULT ROLE takes them (`NONE` when it has none).
   * MariaDB prints its one default role in SHOW GRANTS (`grants`); MySQL keeps them in
   * mysql.default_roles.
   */
  defaultRolesOf(user: string, grants: string[]): Promise<string>;
  run(action: string, statement: string): Promise<void>;
  /** 'user'@'host', escaped. */
  account(user: string): string;
  userHost: string;
  /** MariaDB takes `SET DEFAULT ROLE … FOR`, MySQL `… TO`. */
  mariadb: boolean;
}

export interface Resync {
  /** Grant statements copied from the main. */
  copied: number;
  /** Grant lines the clone held that the main does not (revoked). */
  dropped: number;
}

export async function resyncClone(db: GrantsDb, main: string, clone: string): Promise<Resync> {
  const mainGrants = await db.grantsOf(main);
  const cloneGrants = await db.grantsOf(clone);
  const wanted = new Set(mainGrants.map((g) => comparable(g, main, db.userHost)));
  const dropped = cloneGrants.filter((g) => !wanted.has(comparable(g, clone, db.userHost))).length;
  await db.run(`revoke the grants of ${clone}`, `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${db.account(clone)}`);
  await revokeRoles(db, clone);
  const copied = await copyGrants(db, mainGrants, main, clone);
  // A role without its default sits inactive at login: a login whose privileges all come
  // through its default role would have none as the clone. Read after the revoke (MySQL may
  // drop a revoked role's default, MariaDB keeps it) and set only on a difference: on
  // MariaDB setting another account's default role needs write access to the mysql schema.
  const roles = await db.defaultRolesOf(main, mainGrants);
  if (roles !== (await db.defaultRolesOf(clone, await db.grantsOf(clone)))) {
    await db.run(`set the default role of ${clone}`, `SET DEFAULT ROLE ${roles} ${db.mariadb ? 'FOR' : 'TO'} ${db.account(clone)}`);
  }
  return { copied, dropped };
}

/** Copies `grants` (SHOW GRANTS of `from`) to `to`, leaving out any password clause. Only adds. */
async function copyGrants(db: GrantsDb, grants: string[], from: string, to: string): Promise<number> {
  const target = grantee(from, db.userHost, 'TO');
  let n = 0;
  for (const grant of grants) {
    if (!target.test(grant)) continue;
    await db.run(`grant to ${to}`, stripPassword(grant.replace(target, `TO ${db.account(to)}`)));
    n++;
  }
  return n;
}

/** MySQL keeps role grants through REVOKE ALL PRIVILEGES (MariaDB does not): revoke what is left. */
async function revokeRoles(db: GrantsDb, user: string): Promise<void> {
  const roles = grantedRoles(await db.grantsOf(user), user, db.userHost);
  if (roles.length) await db.run(`revoke roles of ${user}`, `REVOKE ${roles.join(', ')} FROM ${db.account(user)}`);
}

/** The default role MariaDB prints in SHOW GRANTS (`SET DEFAULT ROLE `r` FOR …`), already quoted; `NONE` when there is none. */
export function mariadbDefaultRole(grants: string[], user: string, host: string): string {
  const line = new RegExp(`^SET DEFAULT ROLE (.+) ${grantee(user, host, 'FOR').source}$`);
  return grants.map((g) => line.exec(g)?.[1]).find((r) => r !== undefined) ?? 'NONE';
}

/** The roles granted to the account, as SHOW GRANTS quotes them (`r` on MariaDB, `r`@`%` on MySQL). */
export function grantedRoles(grants: string[], user: string, host: string): string[] {
  const to = grantee(user, host, 'TO');
  return grants
    .filter((g) => !/ ON /.test(g) && to.test(g))
    .flatMap((g) => /^GRANT (.+?) TO /.exec(g)?.[1]?.split(/,\s*/) ?? []);
}

/** A grant line with its grantee and password clause taken out, to compare two accounts' lines. */
function comparable(grant: string, user: string, host: string): string {
  return stripPassword(grant.replace(grantee(user, host, 'TO'), 'TO <grantee>').replace(grantee(user, host, 'FOR'), 'FOR <grantee>'));
}

const stripPassword = (grant: string) => grant.replace(/ IDENTIFIED (BY PASSWORD|VIA|WITH) .*?(?= WITH | REQUIRE |$)/, '');

/** `TO 'user'@'host'` as SHOW GRANTS quotes it (backticks on MariaDB and MySQL 8, quotes before). */
function grantee(user: string, host: string, word: 'TO' | 'FOR'): RegExp {
  return new RegExp(`${word} [\`']${escapeRe(user)}[\`']@[\`']${escapeRe(host)}[\`']`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
