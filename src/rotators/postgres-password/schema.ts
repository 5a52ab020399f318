/** rotor.yaml fields of a `postgres-password` secret, and the shape of its value. */
import { z } from 'zod';
import { connectSchema, drainSchema, loginNameSchema, otherLogin, passwordLengthSchema, passwordValueSchema } from '../shared/spec.js';

export const POSTGRES_STRATEGIES = ['single', 'alternating', 'new-user'] as const;

export const postgresSpecSchema = z
  .strictObject({
    strategy: z
      .enum(POSTGRES_STRATEGIES)
      .describe('single: change the password in place (old fails at once); alternating: two logins, name and name_clone; new-user: a new login per rotation'),
    username: loginNameSchema,
    group: loginNameSchema.optional().describe('new-user: the role each new login is granted (default: username)'),
    keepOriginal: z
      .boolean()
      .default(false)
      .describe('new-user: leave the original login `username` able to log in with the password it had before Rotor, which Rotor does not hold (default: it gets NOLOGIN at the first retire; its members keep its privileges)'),
    passwordLength: passwordLengthSchema,
    database: z.string().min(1).max(63).optional().describe('database clients connect to (default: the target URL database)'),
    ...connectSchema,
    drain: drainSchema,
  })
  .superRefine((spec, ctx) => {
    if (spec.keepOriginal && spec.strategy !== 'new-user') {
      ctx.addIssue({ code: 'custom', path: ['keepOriginal'], message: `keepOriginal is for new-user; ${spec.strategy} rotates the original login itself` });
    }
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
      // The login not in use; an adopted `username` counts as in use, so the clone comes next.
      return otherLogin(spec.username, current?.username);
    case 'new-user':
      return `${spec.username}_v${version}`;
  }
}

/**
 * The login retire takes LOGIN away from, once `current` is live; undefined when none.
 * `retiring` is undefined on a first rotation whose earlier value Rotor never held: then the
 * login the services used before Rotor is the one to revoke (SPEC "Nothing left behind").
 */
export function loginToRevoke(spec: PostgresSpec, retiring: PostgresValue | undefined, current: PostgresValue): string | undefined {
  switch (spec.strategy) {
    case 'single':
      return undefined; // one password per role: apply replaced the old one, whoever set it
    case 'alternating':
      return otherLogin(spec.username, current.username);
    case 'new-user':
      return retiring?.username ?? (spec.keepOriginal ? undefined : spec.username);
  }
}

export const cloneOf = (username: string) => `${username}_clone`;
