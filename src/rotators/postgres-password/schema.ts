/** rotor.yaml fields of a `postgres-password` secret, and the shape of its value. */
import { z } from 'zod';
import { connectSchema, drainSchema, loginNameSchema, passwordLengthSchema, passwordValueSchema } from '../shared/spec.js';

export const POSTGRES_STRATEGIES = ['single', 'alternating', 'new-user'] as const;

export const postgresSpecSchema = z
  .strictObject({
    strategy: z
      .enum(POSTGRES_STRATEGIES)
      .describe('single: change the password in place (old fails at once); alternating: two logins, name and name_clone; new-user: a new login per rotation'),
    username: loginNameSchema,
    group: loginNameSchema.optional().describe('new-user: the role each new login is granted (default: username)'),
    passwordLength: passwordLengthSchema,
    database: z.string().min(1).max(63).optional().describe('database clients connect to (default: the target URL database)'),
    ...connectSchema,
    drain: drainSchema,
  })
  .describe('a PostgreSQL login password');

export type PostgresSpec = z.infer<typeof postgresSpecSchema>;

export const postgresValueSchema = z.strictObject({
  username: z.string().min(1).max(63),
  password: passwordValueSchema,
  host: z.string().min(1),
  port: z.number().int(),
  database: z.string().min(1),
});

export type PostgresValue = z.infer<typeof postgresValueSchema>;

/** The login a version of an `alternating` or `new-user` secret uses. */
export function loginFor(spec: PostgresSpec, version: number, current: PostgresValue | undefined): string {
  switch (spec.strategy) {
    case 'single':
      return spec.username;
    case 'alternating':
      // The first rotation fills the clone, so services keep the password they run on today
      // until they are given the new one; after that the two logins take turns.
      return current?.username === cloneOf(spec.username) ? spec.username : cloneOf(spec.username);
    case 'new-user':
      return `${spec.username}_v${version}`;
  }
}

export const cloneOf = (username: string) => `${username}_clone`;
