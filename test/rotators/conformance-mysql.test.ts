/**
 * The rotator conformance suite (conformance.ts) for `mysql-password`, against a private
 * MariaDB. Dual passwords need MySQL 8.0.14+, which Debian does not ship: that line runs
 * against the server ROTOR_TEST_MYSQL_URL names (an admin URL), and is skipped without it.
 */
import { runRotatorConformance } from './conformance.js';
import { mysqlLine, mysqlTarget } from './conformance/mysql.js';

const mariadb = mysqlTarget();
const mysql8 = process.env.ROTOR_TEST_MYSQL_URL;

runRotatorConformance(mysqlLine(mariadb, 'single'));
runRotatorConformance(mysqlLine(mariadb, 'alternating'));
runRotatorConformance(mysql8
  ? mysqlLine(mysqlTarget(mysql8), 'dual-password')
  : mysqlLine(mariadb, 'dual-password', 'dual-password needs MySQL 8.0.14+ (RETAIN CURRENT PASSWORD), MariaDB has no dual passwords: set ROTOR_TEST_MYSQL_URL to a MySQL 8 admin URL to run it'));
