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
  run(action: string, statement: string): Promise<void>;
  /** 'user'@'host', escaped. */
  account(user: string): string;
  userHost: string;
  /** MariaDB prints the default role in SHOW GRANTS and takes `SET DEFAULT ROLE … FOR`. */
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
  // A role without its default sits inactive on MariaDB. Set only on a difference: setting
  // another account's default role needs write access to the mysql schema.
  const role = defaultRole(db, mainGrants, main);
  if (db.mariadb && role !== defaultRole(db, cloneGrants, clone)) {
    await db.run(`set the default role of ${clone}`, `SET DEFAULT ROLE ${role ?? 'NONE'} FOR ${db.account(clone)}`);
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
  const to = grantee(user, db.userHost, 'TO');
  for (const grant of await db.grantsOf(user)) {
    const roles = / ON /.test(grant) ? undefined : /^GRANT (.+?) TO /.exec(grant)?.[1];
    if (roles && to.test(grant)) await db.run(`revoke roles of ${user}`, `REVOKE ${roles} FROM ${db.account(user)}`);
  }
}

/** The default role MariaDB prints in SHOW GRANTS (`SET DEFAULT ROLE `r` FOR …`), already quoted. */
function defaultRole(db: GrantsDb, grants: string[], user: string): string | undefined {
  const line = new RegExp(`^SET DEFAULT ROLE (.+) ${grantee(user, db.userHost, 'FOR').source}$`);
  return grants.map((g) => line.exec(g)?.[1]).find((r) => r !== undefined);
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
