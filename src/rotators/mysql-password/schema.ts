/** rotor.yaml fields of a `mysql-password` secret (MySQL and MariaDB), and its value. */
import { z } from 'zod';
import { connectSchema, drainSchema, loginNameSchema, otherLogin, passwordLengthSchema, passwordValueSchema } from '../shared/spec.js';

export const MYSQL_STRATEGIES = ['single', 'alternating', 'dual-password'] as const;

export const mysqlSpecSchema = z
  .strictObject({
    strategy: z
      .enum(MYSQL_STRATEGIES)
      .describe('single: change the password in place; alternating: accounts name and name_clone; dual-password: RETAIN CURRENT PASSWORD (MySQL 8.0.14+, not MariaDB)'),
    username: loginNameSchema.refine((u) => u.length <= 26, 'at most 26 characters, so that name_clone fits MySQL\'s 32'),
    userHost: z.string().min(1).max(255).regex(/^[A-Za-z0-9_.:%-]+$/, 'a host pattern like %, 10.0.%.% or app.internal').default('%').describe('the host part of the account, as in \'app\'@\'%\''),
    passwordLength: passwordLengthSchema,
    database: z.string().max(64).optional().describe('database clients connect to (default: none, not the admin URL database)'),
    ...connectSchema,
    drain: drainSchema,
  })
  .describe('a MySQL or MariaDB account password');

export type MysqlSpec = z.infer<typeof mysqlSpecSchema>;

export const mysqlValueSchema = z.strictObject({
  username: z.string().min(1).max(32),
  password: passwordValueSchema,
  host: z.string().min(1),
  port: z.number().int(),
  database: z.string(),
});

export type MysqlValue = z.infer<typeof mysqlValueSchema>;

export const cloneOf = (username: string) => `${username}_clone`;

/** The account a new version uses: alternating takes the one not in use (after an adopted `username`, the clone). */
export function userFor(spec: MysqlSpec, current: MysqlValue | undefined): string {
  return spec.strategy === 'alternating' ? otherLogin(spec.username, current?.username) : spec.username;
}
