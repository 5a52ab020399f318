/**
 * alternating: the clone holds exactly what the main login holds. It is a member of the main
 * role with INHERIT, and of nothing else the main is not also a direct member of. Anything
 * more (a GRANT made to the clone by hand, a role the main has since lost) is drift: the
 * clone would outlive a privilege someone took away from the main. Run when the clone is
 * about to become current, never while it is: until its rotation is verified, nobody uses it.
 *
 * @example
 *   const repairs = await syncClone(query, { main: 'app', clone: 'app_clone', versionNum: 150004 });
 *   // ['revoked from app_clone: membership in reporting (app is not a member)']
 */
import { ident } from '../shared/pg-sql.js';

/** Runs one statement on the admin connection, turning failures into RotorErrors. */
export type Query = <R extends Record<string, unknown>>(action: string, text: string, params?: unknown[]) => Promise<R[]>;

export interface CloneRoles {
  main: string;
  clone: string;
  /** server_version_num: from 16 on, inheritance belongs to each membership, not the role. */
  versionNum: number;
}

/** Makes the clone a member of the main with INHERIT and of nothing extra; returns what it changed. */
export async function syncClone(query: Query, r: CloneRoles): Promise<string[]> {
  return [...(await ensureInherits(query, r)), ...(await revokeExtraMemberships(query, r))];
}

async function ensureInherits(query: Query, { main, clone, versionNum }: CloneRoles): Promise<string[]> {
  if (versionNum >= 160000) {
    const rows = await query<{ inherit: boolean }>('read pg_auth_members',
      `SELECT m.inherit_option AS inherit FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE r.rolname = $1 AND u.rolname = $2`, [main, clone]);
    if (rows.some((row) => row.inherit)) return [];
    await query(`grant ${main} to ${clone}`, `GRANT ${ident(main)} TO ${ident(clone)} WITH INHERIT TRUE`);
    return [`${clone} now inherits ${main}'s privileges`];
  }
  const [role] = await query<{ inherit: boolean }>('read pg_roles', 'SELECT rolinherit AS inherit FROM pg_roles WHERE rolname = $1', [clone]);
  if (role?.inherit !== false) return [];
  await query(`set ${clone} INHERIT`, `ALTER ROLE ${ident(clone)} INHERIT`);
  return [`${clone} set INHERIT again (it held ${main}'s membership without its privileges)`];
}

async function revokeExtraMemberships(query: Query, { main, clone, versionNum }: CloneRoles): Promise<string[]> {
  const extra = await query<{ role: string; grantor: string }>('read pg_auth_members',
    `SELECT r.rolname AS role, g.rolname AS grantor
       FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member LEFT JOIN pg_roles g ON g.oid = m.grantor
      WHERE u.rolname = $2 AND r.rolname <> $1
        AND NOT EXISTS (SELECT 1 FROM pg_auth_members mm JOIN pg_roles mu ON mu.oid = mm.member WHERE mu.rolname = $1 AND mm.roleid = m.roleid)`,
    [main, clone]);
  const out: string[] = [];
  for (const { role, grantor } of extra) {
    // From 16 on, a REVOKE removes only the grants its GRANTED BY names (default: our own).
    const by = versionNum >= 160000 && grantor ? ` GRANTED BY ${ident(grantor)}` : '';
    await query(`revoke ${role} from ${clone}`, `REVOKE ${ident(role)} FROM ${ident(clone)}${by}`);
    out.push(`revoked from ${clone}: membership in ${role} (${main} is not a member)`);
  }
  return out;
}
