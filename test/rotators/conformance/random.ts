/**
 * The `random` line: no target to ask; the suite checks stages, values and redaction.
 *
 * @example
 * runRotatorConformance(randomLine());
 */
import { randomBytes } from 'node:crypto';
import type { ConformanceLine } from './types.js';

export function randomLine(): ConformanceLine<string> {
  return {
    name: 'random',
    type: 'random',
    // A long value (the schema allows 4096): what a consumer echoes of it fills Rotor's output buffers.
    fields: () => ({ length: 4000, encoding: 'alnum' }),
    login: (tag) => tag,
    clean: async () => {},
    async existing() {
      const value = randomBytes(4000).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 4000);
      return { input: value, value };
    },
    probe: { accepts: async () => undefined, unexplained: async () => [], snapshot: async () => null },
    secretsOf: (v) => [v],
  };
}
