import type { RotatorDefinition } from '../types.js';
import { randomSpecSchema, randomValueSchema, type RandomSpec } from './schema.js';

export const randomDefinition = {
  type: 'random',
  summary: 'a random string (API key, app secret key, service token)',
  schema: randomSpecSchema,
  valueSchema: randomValueSchema,
  targetType: null,
  plan: (spec) => ({
    steps: {
      create: `generate ${spec.length} ${spec.encoding} characters${spec.prefix ? ` after ${spec.prefix}` : ''} and store them as pending`,
      apply: 'nothing to apply: no target',
      verify: 'check the stored value has the length and alphabet of the spec',
      promote: 'pending becomes current, current becomes previous',
      propagate: 'deliver the new value to the consumers of the secret',
      retire: 'mark previous retired after grace (no target to revoke at)',
    },
    notes: [],
  }),
  load: async () => (await import('./rotator.js')).createRandomRotator,
} satisfies RotatorDefinition<'random', RandomSpec, string>;
