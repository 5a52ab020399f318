import type { RotatorDefinition } from '../types.js';
import { postgresSpecSchema, postgresValueSchema, type PostgresSpec, type PostgresValue } from './schema.js';
import { drainWaits } from '../shared/spec.js';

const APPLY: Record<PostgresSpec['strategy'], (s: PostgresSpec) => string> = {
  single: (s) => `ALTER ROLE ${s.username} PASSWORD <SCRAM verifier> (the old password stops working now)`,
  alternating: (s) =>
    `set the password of whichever of ${s.username} / ${s.username}_clone is not in use; the clone is (re)made a member of ${s.username} with INHERIT and loses memberships ${s.username} does not have`,
  'new-user': (s) => `CREATE ROLE ${s.username}_v<N> LOGIN IN ROLE ${s.group ?? s.username}`,
};

/** What retire revokes, naming the credentials Rotor never created as well (SPEC "Nothing left behind"). */
const RETIRE: Record<PostgresSpec['strategy'], (s: PostgresSpec) => string> = {
  single: (s) => `nothing left to revoke: a role holds one password, so apply replaced every earlier password of ${s.username}, including one set before Rotor; prove the old password is refused`,
  alternating: (s) =>
    `${drainText(s)} whichever of ${s.username} / ${s.username}_clone is not current — on the first rotation ${s.username} itself, with the password it had before Rotor — then set it NOLOGIN PASSWORD NULL; prove it is refused`,
  'new-user': (s) =>
    `${drainText(s)} the previous login ${s.username}_v<N-1>, then set it NOLOGIN PASSWORD NULL; ${
      s.keepOriginal
        ? `the original login ${s.username} keeps its password (keepOriginal: true)`
        : `at the first retire the original login ${s.username} likewise, with the password it had before Rotor (its members keep its privileges)`
    }; prove it is refused`,
};

const drainText = (s: PostgresSpec) => `wait up to ${s.drain.timeout} (then ${s.drain.onTimeout}) for sessions to end on`;

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
      retire: RETIRE[spec.strategy](spec),
    },
    notes: [
      'the password reaches the server only as a SCRAM-SHA-256 verifier: statement logs hold no password',
      ...(spec.strategy === 'single' ? ['single: clients on the old password fail from apply until they get the new one; alternating avoids that'] : []),
      ...(spec.keepOriginal ? [`keepOriginal: ${spec.username} still logs in with a password Rotor does not hold`] : []),
    ],
  }),
  waits: drainWaits,
  load: async () => (await import('./rotator.js')).createPostgresRotator,
} satisfies RotatorDefinition<'postgres-password', PostgresSpec, PostgresValue>;
