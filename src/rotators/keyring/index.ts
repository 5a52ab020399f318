import type { RotatorDefinition } from '../types.js';
import { keyringSpecSchema, keyringValueSchema, type KeyringSpec, type KeyringValueOf } from './schema.js';

export const keyringDefinition = {
  type: 'keyring',
  summary: 'an encryption keyring (AES-256-GCM keys with ids; re-encryption with `rotor reencrypt`)',
  schema: keyringSpecSchema,
  valueSchema: keyringValueSchema,
  targetType: 'postgres',
  targetOptional: true,
  plan: (spec) => ({
    steps: {
      create: 'generate a new 256-bit key; the keyring is the new primary plus the key it replaces',
      apply: 'nothing: data moves to the new key with `rotor reencrypt`',
      verify: 'encrypt and decrypt a probe with the new primary',
      promote: 'the new key becomes primary: new data is encrypted with it',
      propagate: 'deliver the keyring to the consumers of the secret',
      retire: spec.data ? `drop the old key, refused while any row of ${spec.data.table}.${spec.data.column} is still under it (run \`rotor reencrypt\` first)` : 'drop the old key',
    },
    notes: spec.data ? [`after promote and delivery, run \`rotor reencrypt <id>\` to move ${spec.data.table}.${spec.data.column} to the new key`] : [],
  }),
  load: async () => (await import('./rotator.js')).createKeyringRotator,
} satisfies RotatorDefinition<'keyring', KeyringSpec, KeyringValueOf>;
