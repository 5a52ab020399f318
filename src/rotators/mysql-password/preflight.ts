/**
 * `rotor plan` for a MySQL / MariaDB secret: everything a rotation will need from the
 * server, asked read-only before anything is created, each refusal naming what to grant
 * or change. The checks beyond the basic privileges:
 *
 * - alternating copies the main account's roles to the clone: the admin needs the ADMIN
 *   OPTION of each (even ALL PRIVILEGES may not grant a role on MariaDB), and, on MariaDB,
 *   write access to the mysql schema to set the clone's default role;
 * - logins from where Rotor runs must land on the rotated account (hosts.ts);
 * - the server's password policy must be one Rotor can meet (policy.ts).
 */
import { RotorError } from '../../errors.js';
import type { PreflightResponse } from '../types.js';
import { accountExists, adminAccount, kindOf, ownGrants, quoteAccount, showGrants, sql, type Admin } from './admin.js';
import { grantedRoles, mariadbDefaultRole } from './grants.js';
import { refuseShadowed, rotorSeenAs, describeClient } from './hosts.js';
import { describePolicy, hasPolicy, policyProblem, type PasswordPolicy } from './policy.js';
import { cloneOf, type MysqlSpec } from './schema.js';

export interface PreflightDeps {
  policyOf(a: Admin): Promise<PasswordPolicy>;
  /** Where Rotor's logins as the account connect (verifyHost, else where clients connect). */
  loginDest(a: Admin, spec: MysqlSpec): { host: string; port: number };
}

export async function preflight(a: Admin, spec: MysqlSpec, deps: PreflightDeps): Promise<PreflightResponse> {
  const kind = await kindOf(a);
  const me = await adminAccount(a);
  if (spec.strategy === 'dual-password' && !kind.dualPassword) {
    throw new RotorError(`${a.where} runs ${kind.mariadb ? 'MariaDB' : 'MySQL'} ${kind.version}, which has no dual passwords (RETAIN CURRENT PASSWORD needs MySQL 8.0.14 or later)`, {
      outcome: 'usage', hint: 'use strategy: alternating for the same zero-downtime rotation with two accounts',
    });
  }
  const grants = (await ownGrants(a)).join('\n');
  requireCreateUser(a, spec, me, grants);
  if (spec.strategy === 'alternating') requireProcess(a, me, grants);
  if (!(await accountExists(a, spec.username, spec.userHost))) {
    throw new RotorError(`account '${spec.username}'@'${spec.userHost}' does not exist at ${a.where}`, {
      outcome: 'usage', hint: `create it (CREATE USER '${spec.username}'@'${spec.userHost}') and grant it what the service needs, or fix \`username\` / \`userHost\``,
    });
  }
  if (spec.strategy === 'alternating') await requireRoleGrants(a, spec, me, grants, kind.mariadb);
  const policy = await deps.policyOf(a);
  const problem = policyProblem(policy, a.where, spec.passwordLength);
  if (problem) throw problem;
  const seen = await rotorSeenAs(a, deps.loginDest(a, spec));
  await refuseShadowed(a, spec.strategy === 'alternating' ? [spec.username, cloneOf(spec.username)] : [spec.username], spec.userHost, seen);
  return {
    notes: [
      `${kind.mariadb ? 'MariaDB' : 'MySQL'} ${kind.version}; admin ${me}`,
      `Rotor logs in as '${spec.username}'@'${spec.userHost}' from ${describeClient(seen)}${spec.verifyHost ? ` (verifyHost ${spec.verifyHost})` : ''}`,
      ...(hasPolicy(policy) ? [describePolicy(policy, spec.passwordLength)] : []),
    ],
  };
}

const onAll = (grants: string, privilege: RegExp) =>
  grants.split('\n').some((g) => /^GRANT .* ON \*\.\* TO /.test(g) && (/^GRANT ALL PRIVILEGES /.test(g) || privilege.test(g.slice(0, g.indexOf(' ON ')))));

function requireCreateUser(a: Admin, spec: MysqlSpec, me: string, grants: string): void {
  if (onAll(grants, /\bCREATE USER\b/)) return;
  throw new RotorError(`the admin login ${me} of ${a.where} has no CREATE USER privilege`, {
    outcome: 'usage', hint: `GRANT CREATE USER ON *.* TO ${a.addr.user}${spec.strategy === 'alternating' ? ' WITH GRANT OPTION (and the privileges to copy to the clone)' : ''}`,
  });
}

/**
 * Without PROCESS the process list shows the admin's own threads only: drain would see no
 * client on the old account and lock it under them. Refused rather than noted, as a note on
 * a scheduled rotation is read by nobody until the outage.
 */
function requireProcess(a: Admin, me: string, grants: string): void {
  if (onAll(grants, /\bPROCESS\b/)) return;
  throw new RotorError(`the admin login ${me} of ${a.where} has no PROCESS privilege, so drain cannot see who is still logged in as the old account`, {
    outcome: 'usage', hint: `GRANT PROCESS ON *.* TO ${quoteAccount(me)}`,
  });
}

/** alternating: the admin can give the clone the main's roles, and (MariaDB) its default role. */
async function requireRoleGrants(a: Admin, spec: MysqlSpec, me: string, grants: string, mariadb: boolean): Promise<void> {
  const mainGrants = await showGrants(a, spec.username, spec.userHost);
  const roles = grantedRoles(mainGrants, spec.username, spec.userHost);
  const may = roles.length ? await mayGrant(a, mariadb, grants) : () => true;
  const missing = roles.filter((r) => !may(r));
  if (missing.length) {
    throw new RotorError(`the admin login ${me} of ${a.where} may not grant ${missing.join(', ')}, which '${spec.username}'@'${spec.userHost}' holds and alternating gives the clone too: granting a role takes its ADMIN OPTION`, {
      outcome: 'usage', hint: `GRANT ${missing.join(', ')} TO ${quoteAccount(me)} WITH ADMIN OPTION`,
    });
  }
  if (!mariadb) return; // MySQL takes SET DEFAULT ROLE … TO another account with CREATE USER
  const role = mariadbDefaultRole(mainGrants, spec.username, spec.userHost);
  const clone = cloneOf(spec.username);
  const cloneRole = (await accountExists(a, clone, spec.userHost)) ? mariadbDefaultRole(await showGrants(a, clone, spec.userHost), clone, spec.userHost) : 'NONE';
  if (role === cloneRole || mayWriteMysqlSchema(grants)) return;
  throw new RotorError(`the admin login ${me} of ${a.where} may not set the default role of ${clone} to ${role}: MariaDB takes SET DEFAULT ROLE … FOR another account only from a login that may update the mysql schema`, {
    outcome: 'usage', hint: `GRANT UPDATE ON mysql.* TO ${quoteAccount(me)}`,
  });
}

/** Role names without quotes, as APPLICABLE_ROLES gives them (MySQL: name@host). */
const bare = (role: string) => role.replace(/[`']/g, '');

/** Whether the admin may grant a role: it holds it WITH ADMIN OPTION (on MySQL ROLE_ADMIN or SUPER also do). */
async function mayGrant(a: Admin, mariadb: boolean, grants: string): Promise<(role: string) => boolean> {
  if (!mariadb && onAll(grants, /\b(ROLE_ADMIN|SUPER)\b/)) return () => true;
  const rows = await sql<{ name: string; host: string | null }>(a, 'read the roles it may grant (information_schema.APPLICABLE_ROLES)',
    `SELECT ROLE_NAME AS name, ${mariadb ? 'NULL' : 'ROLE_HOST'} AS host FROM information_schema.APPLICABLE_ROLES WHERE IS_GRANTABLE = 'YES'`);
  const names = new Set(rows.map((r) => (r.host === null ? r.name : `${r.name}@${r.host}`)));
  return (role) => names.has(bare(role));
}

function mayWriteMysqlSchema(grants: string): boolean {
  return grants.split('\n').some((g) => {
    const m = /^GRANT (.+?) ON (\*\.\*|`mysql`\.\*) TO /.exec(g);
    return m !== null && (/^ALL PRIVILEGES/.test(m[1]!) || /\bUPDATE\b/.test(m[1]!));
  });
}
