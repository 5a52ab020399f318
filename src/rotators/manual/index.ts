import type { RotatorDefinition } from '../types.js';
import { manualSpecSchema, manualValueSchema, type ManualSpec } from './schema.js';
import { parseDuration } from '../../config/duration.js';

export const manualDefinition = {
  type: 'manual',
  summary: 'a value a provider issues (an external API key): `rotor set` supplies it, retire reminds you to revoke',
  schema: manualSpecSchema,
  valueSchema: manualValueSchema,
  targetType: null,
  plan: (spec) => ({
    steps: {
      create: spec.rotate ? 'run rotate.command and store what it prints as pending' : 'store the value given to `rotor set` as pending',
      apply: 'nothing to apply: the provider issued it',
      verify: spec.verify ? 'run verify.command with the value on stdin' : 'nothing to verify (no verify.command)',
      promote: 'pending becomes current, current becomes previous',
      propagate: 'deliver the new value to the consumers of the secret',
      retire: `after grace, remind you to revoke the old value at the provider${spec.revoke ? ` (${spec.revoke})` : ''}: Rotor cannot`,
    },
    notes: [],
  }),
  waits: (spec) => {
    const ms = (h: { timeout: string } | undefined) => (h ? parseDuration(h.timeout) ?? 0 : 0);
    return { create: Math.max(ms(spec.rotate), ms(spec.verify)), verify: ms(spec.verify) };
  },
  load: async () => (await import('./rotator.js')).createManualRotator,
} satisfies RotatorDefinition<'manual', ManualSpec, string>;
