/** rotor.yaml fields of a `redis-acl` secret, and the shape of its value. */
import { z } from 'zod';
import { connectSchema, drainSchema, loginNameSchema, otherLogin, passwordLengthSchema, passwordValueSchema } from '../shared/spec.js';

export const REDIS_STRATEGIES = ['dual-password', 'alternating', 'requirepass'] as const;

/**
 * Password rules are Rotor's to manage; everything else in an ACL rule string is the user's.
 * Redis reads rule words without regard to case (NOPASS, ResetPass), and so does this.
 */
const PASSWORD_RULE = /^(>|<|#|!|nopass$|resetpass$|reset$)/i;

/** Whether a rule string holds a password rule; exported for tests. */
export const hasPasswordRule = (rules: string): boolean => rules.split(/\s+/).some((t) => PASSWORD_RULE.test(t));

export const redisSpecSchema = z
  .strictObject({
    strategy: z
      .enum(REDIS_STRATEGIES)
      .describe('dual-password: one user, old and new password both valid until retire; alternating: users name and name_clone; requirepass: the default user, replaced in place'),
    username: loginNameSchema.optional().describe('the ACL user (requirepass: always `default`)'),
    rules: z
      .string()
      .max(2000)
      .refine((r) => !hasPasswordRule(r), 'password rules (>, <, #, !, nopass, resetpass, reset, in any case) are managed by Rotor; list only keys, channels and commands')
      .optional()
      .describe('ACL rules for a user Rotor creates, e.g. "~app:* +@read +@write" (alternating copies the other login\'s rules when omitted)'),
    persist: z
      .enum(['auto', 'none'])
      .default('auto')
      .describe('auto: ACL SAVE when the server has an aclfile, else CONFIG REWRITE, so a restart keeps the new passwords'),
    passwordLength: passwordLengthSchema,
    ...connectSchema,
    drain: drainSchema,
  })
  .superRefine((spec, ctx) => {
    if (spec.strategy === 'requirepass' && spec.username !== undefined && spec.username !== 'default') {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'requirepass rotates the `default` user; use dual-password or alternating for named users' });
    }
    if (spec.strategy !== 'requirepass' && spec.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: `${spec.strategy} needs \`username\`: the ACL user to rotate` });
    }
  })
  .describe('a Redis ACL user password (Redis 6+)');

export type RedisSpec = z.infer<typeof redisSpecSchema>;

export const redisValueSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: passwordValueSchema,
  host: z.string().min(1),
  port: z.number().int(),
});

export type RedisValue = z.infer<typeof redisValueSchema>;

export const baseUser = (spec: RedisSpec): string => spec.username ?? 'default';

/** The user a version logs in as: alternating takes the one not in use (after an adopted `username`, the clone). */
export function userFor(spec: RedisSpec, current: RedisValue | undefined): string {
  const base = baseUser(spec);
  return spec.strategy === 'alternating' ? otherLogin(base, current?.username) : base;
}
