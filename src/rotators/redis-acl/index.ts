import type { RotatorDefinition } from '../types.js';
import { baseUser, redisSpecSchema, redisValueSchema, type RedisSpec, type RedisValue } from './schema.js';

const APPLY: Record<RedisSpec['strategy'], (u: string) => string> = {
  'dual-password': (u) => `ACL SETUSER ${u} #<sha256 of new>: old and new passwords both work until retire`,
  alternating: (u) => `ACL SETUSER on whichever of ${u} / ${u}_clone is not in use, with the other's rules`,
  requirepass: () => 'ACL SETUSER default resetpass #<sha256 of new> (the old password stops working now)',
};

const RETIRE: Record<RedisSpec['strategy'], (spec: RedisSpec) => string> = {
  'dual-password': (s) => `ACL SETUSER ${baseUser(s)} !<sha256 of old>, prove the old password is refused`,
  alternating: (s) => `wait up to ${s.drain.timeout} for clients of the old user to leave (CLIENT LIST; then ${s.drain.onTimeout}), ACL SETUSER old off resetpass, prove it is refused`,
  requirepass: () => 'nothing left to revoke (replaced at apply); prove the old password is refused',
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
  load: async () => (await import('./rotator.js')).createRedisRotator,
} satisfies RotatorDefinition<'redis-acl', RedisSpec, RedisValue>;
