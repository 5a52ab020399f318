/**
 * What a MySQL-protocol server can do. MariaDB and MySQL diverged: MariaDB takes a
 * precomputed mysql_native_password hash (so no plaintext travels) but has no dual
 * passwords; MySQL 8.0.14+ has RETAIN CURRENT PASSWORD, and its default plugin
 * (caching_sha2_password) takes the password itself, which MySQL masks in its logs.
 */
import { createHash } from 'node:crypto';

export interface ServerKind {
  version: string;
  mariadb: boolean;
  dualPassword: boolean;
}

export function serverKind(version: string): ServerKind {
  const mariadb = /mariadb/i.test(version);
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).slice(0, 3).map(Number);
  const dualPassword = !mariadb && (major > 8 || (major === 8 && (minor > 0 || patch >= 14)));
  return { version, mariadb, dualPassword };
}

/** The mysql_native_password hash: '*' and upper-case hex of SHA1(SHA1(password)). */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password).digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}
