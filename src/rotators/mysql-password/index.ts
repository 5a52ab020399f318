import type { RotatorDefinition } from '../types.js';
import { mysqlSpecSchema, mysqlValueSchema, type MysqlSpec, type MysqlValue } from './schema.js';
import { drainWaits } from '../shared/spec.js';

const APPLY: Record<MysqlSpec['strategy'], (s: MysqlSpec) => string> = {
  single: (s) => `ALTER USER '${s.username}'@'${s.userHost}' with the new password (the old one stops working now)`,
  alternating: (s) =>
    `set the password of whichever of ${s.username} / ${s.username}_clone is not in use; the clone's grants and roles are revoked and ${s.username}'s copied to it again`,
  'dual-password': (s) => `ALTER USER '${s.username}'@'${s.userHost}' … RETAIN CURRENT PASSWORD: old and new both work until retire`,
};

/** What retire revokes, naming the credentials Rotor never created as well (SPEC "Nothing left behind"). */
const RETIRE: Record<MysqlSpec['strategy'], (s: MysqlSpec) => string> = {
  single: (s) =>
    `nothing left to revoke: apply replaced the password of '${s.username}'@'${s.userHost}', including one set before Rotor (on MySQL 8 also DISCARD OLD PASSWORD, for a retained one); prove the old password is refused`,
  alternating: (s) =>
    `wait up to ${s.drain.timeout} (then ${s.drain.onTimeout}) for sessions to end on whichever of ${s.username} / ${s.username}_clone is not current — on the first rotation ${s.username} itself, with the password it had before Rotor — then ACCOUNT LOCK it; prove it is refused`,
  'dual-password': (s) =>
    `DISCARD OLD PASSWORD of '${s.username}'@'${s.userHost}': removes its retained password — on the first rotation the one it had before Rotor — so only the current one works; prove it`,
};

/** What verify runs to prove the service's privileges. */
function verifyCheck(spec: MysqlSpec): string {
  if (spec.verifyQuery) return ', and run verifyQuery (read-only, rolled back)';
  return spec.database ? `, and SHOW TABLES FROM ${spec.database}` : '';
}

export const mysqlDefinition = {
  type: 'mysql-password',
  summary: 'a MySQL or MariaDB account password (single, alternating or dual-password)',
  schema: mysqlSpecSchema,
  valueSchema: mysqlValueSchema,
  targetType: 'mysql',
  plan: (spec) => ({
    steps: {
      create: `generate a ${spec.passwordLength}-character password (longer, and with - _ ., when the server's password policy asks) and store it as pending`,
      apply: APPLY[spec.strategy](spec),
      verify: `log in with the pending password${spec.verifyHost ? ` at ${spec.verifyHost}` : ''}; check CURRENT_USER() is '${spec.username}${spec.strategy === 'alternating' ? '[_clone]' : ''}'@'${spec.userHost}'${spec.strategy === 'alternating' ? ', that the main account\'s default role is active' : ''}${verifyCheck(spec)}`,
      promote: 'pending becomes current, current becomes previous',
      propagate: 'deliver the new value to the consumers of the secret',
      retire: RETIRE[spec.strategy](spec),
    },
    notes: [
      'MariaDB receives a mysql_native_password hash, never the password; MySQL receives the password and masks it in its logs',
      ...(spec.strategy === 'single' ? ['single: clients on the old password fail from apply until they get the new one; alternating avoids that'] : []),
    ],
  }),
  waits: drainWaits,
  load: async () => (await import('./rotator.js')).createMysqlRotator,
} satisfies RotatorDefinition<'mysql-password', MysqlSpec, MysqlValue>;
