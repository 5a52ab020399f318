import type { RotatorDefinition } from '../types.js';
import { mysqlSpecSchema, mysqlValueSchema, type MysqlSpec, type MysqlValue } from './schema.js';

const APPLY: Record<MysqlSpec['strategy'], (s: MysqlSpec) => string> = {
  single: (s) => `ALTER USER '${s.username}'@'${s.userHost}' with the new password (the old one stops working now)`,
  alternating: (s) => `set the password of whichever of ${s.username} / ${s.username}_clone is not in use; copy ${s.username}'s grants to the clone`,
  'dual-password': (s) => `ALTER USER '${s.username}'@'${s.userHost}' … RETAIN CURRENT PASSWORD: old and new both work until retire`,
};

const RETIRE: Record<MysqlSpec['strategy'], (s: MysqlSpec) => string> = {
  single: () => 'nothing left to revoke (replaced at apply); prove the old password is refused',
  alternating: (s) => `wait up to ${s.drain.timeout} for sessions of the old account to end (then ${s.drain.onTimeout}), ACCOUNT LOCK it, prove it is refused`,
  'dual-password': () => 'DISCARD OLD PASSWORD, prove the old password is refused',
};

export const mysqlDefinition = {
  type: 'mysql-password',
  summary: 'a MySQL or MariaDB account password (single, alternating or dual-password)',
  schema: mysqlSpecSchema,
  valueSchema: mysqlValueSchema,
  targetType: 'mysql',
  plan: (spec) => ({
    steps: {
      create: `generate a ${spec.passwordLength}-character password and store it as pending`,
      apply: APPLY[spec.strategy](spec),
      verify: 'log in with the pending password and check CURRENT_USER()',
      promote: 'pending becomes current, current becomes previous',
      propagate: 'deliver the new value to the consumers of the secret',
      retire: RETIRE[spec.strategy](spec),
    },
    notes: [
      'MariaDB receives a mysql_native_password hash, never the password; MySQL receives the password and masks it in its logs',
      ...(spec.strategy === 'single' ? ['single: clients on the old password fail from apply until they get the new one; alternating avoids that'] : []),
    ],
  }),
  load: async () => (await import('./rotator.js')).createMysqlRotator,
} satisfies RotatorDefinition<'mysql-password', MysqlSpec, MysqlValue>;
