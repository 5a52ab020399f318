import type { RotatorDefinition } from '../types.js';
import { baseUser, redisSpecSchema, redisValueSchema, type RedisSpec, type RedisValue } from './schema.js';
import { drainWaits } from '../shared/spec.js';

const APPLY: Record<RedisSpec['strategy'], (u: string) => string> = {
  'dual-password': (u) => `ACL SETUSER ${u} #<sha256 of new>: old and new passwords both work until retire`,
  alternating: (u) => `ACL SETUSER on whichever of ${u} / ${u}_clone is not in use; the clone is reset to ${u}'s rules (or the secret's \`rules\`)`,
  requirepass: () => 'ACL SETUSER default resetpass #<sha256 of new> (the old password stops working now)',
};

/** What retire revokes, naming the credentials Rotor never created as well (SPEC "Nothing left behind"). */
const RETIRE: Record<RedisSpec['strategy'], (spec: RedisSpec) => string> = {
  'dual-password': (s) =>
    `ACL SETUSER ${baseUser(s)} resetpass #<sha256 of current>: removes every password of ${baseUser(s)} except the current one, including any set before Rotor; prove ACL GETUSER lists only the current one`,
  alternating: (s) =>
    `wait up to ${s.drain.timeout} (then ${s.drain.onTimeout}) for clients to leave (CLIENT LIST) whichever of ${baseUser(s)} / ${baseUser(s)}_clone is not current — on the first rotation ${baseUser(s)} itself — then ACL SETUSER it off resetpass: every password it has, including any set before Rotor, stops working; prove it is off`,
  requirepass: () =>
    'ACL SETUSER default resetpass #<sha256 of current> (already so since apply): removes every password of default except the current one, including any set before Rotor; prove ACL GETUSER lists only the current one',
};

export const redisDefinition = {
  type: 'redis-acl',
  summary: 'a Redis ACL user password (dual-password, alternating or requirepass)',
  schema: redisSpecSchema,
  valueSchema: redisValueSchema,
  targetType: 'redis',
  plan: (spec) => ({
    steps: {
      create: `generate a ${spec.passwordLength}-character password and store it as pending`,
      apply: `${APPLY[spec.strategy](baseUser(spec))}${spec.persist === 'auto' ? '; then ACL SAVE or CONFIG REWRITE' : ''}`,
      verify: 'AUTH with the pending password on a new connection',
      promote: 'pending becomes current, current becomes previous',
      propagate: 'deliver the new value to the consumers of the secret',
      retire: RETIRE[spec.strategy](spec),
    },
    notes: [
      'passwords reach the server only as SHA-256 hashes (#…): MONITOR and the slow log hold none',
      ...(spec.strategy === 'requirepass' ? ['requirepass: clients on the old password fail from apply until they get the new one; dual-password avoids that'] : []),
      ...(spec.persist === 'none' ? ['persist: none — a server restart brings back the passwords in its config'] : []),
    ],
  }),
  waits: drainWaits,
  load: async () => (await import('./rotator.js')).createRedisRotator,
} satisfies RotatorDefinition<'redis-acl', RedisSpec, RedisValue>;
