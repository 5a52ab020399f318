import type { RotatorDefinition } from '../types.js';
import { postgresSpecSchema, postgresValueSchema, type PostgresSpec, type PostgresValue } from './schema.js';

const APPLY: Record<PostgresSpec['strategy'], (s: PostgresSpec) => string> = {
  single: (s) => `ALTER ROLE ${s.username} PASSWORD <SCRAM verifier> (the old password stops working now)`,
  alternating: (s) => `set the password of whichever of ${s.username} / ${s.username}_clone is not in use (the clone is created as a member of ${s.username} when missing)`,
  'new-user': (s) => `CREATE ROLE ${s.username}_v<N> LOGIN IN ROLE ${s.group ?? s.username}`,
};

export const postgresDefinition = {
  type: 'postgres-password',
  summary: 'a PostgreSQL login password (single, alternating or new-user)',
  schema: postgresSpecSchema,
  valueSchema: postgresValueSchema,
  targetType: 'postgres',
  plan: (spec) => ({
    steps: {
      create: `generate a ${spec.passwordLength}-character password and store it as pending`,
      apply: APPLY[spec.strategy](spec),
      verify: 'log in with the pending password and check current_user',
      promote: 'pending becomes current, current becomes previous',
      propagate: 'deliver the new value to the consumers of the secret',
      retire: spec.strategy === 'single'
        ? 'nothing left to revoke (replaced at apply); prove the old password is refused'
        : `wait up to ${spec.drain.timeout} for sessions on the old login to end (then ${spec.drain.onTimeout}), set it NOLOGIN, prove the old password is refused`,
    },
    notes: [
      'the password reaches the server only as a SCRAM-SHA-256 verifier: statement logs hold no password',
      ...(spec.strategy === 'single' ? ['single: clients on the old password fail from apply until they get the new one; alternating avoids that'] : []),
    ],
  }),
  load: async () => (await import('./rotator.js')).createPostgresRotator,
} satisfies RotatorDefinition<'postgres-password', PostgresSpec, PostgresValue>;
