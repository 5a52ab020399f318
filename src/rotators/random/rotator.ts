/**
 * `random`: a value with no target to change. Apply and retire have nothing to do; verify
 * proves the stored value is what the spec asks for, so a damaged or mismatched value
 * never becomes current.
 */
import { randomString, ENCODING_ALPHABET } from '../../crypto/generate.js';
import type { Rotator, RotatorDeps } from '../types.js';
import type { RandomSpec } from './schema.js';

export function createRandomRotator(_deps: RotatorDeps) {
  return {
    async preflight() {
      return { notes: [] };
    },
    async generate({ spec }) {
      return { value: (spec.prefix ?? '') + randomString(spec.length, spec.encoding) };
    },
    async apply() {
      return { detail: 'no target' };
    },
    async verify({ spec, value }) {
      const prefix = spec.prefix ?? '';
      const body = value.slice(prefix.length);
      if (!value.startsWith(prefix) || body.length !== spec.length || !ENCODING_ALPHABET[spec.encoding].test(body)) {
        throw new Error(`value does not match the spec (length ${spec.length}, ${spec.encoding}${prefix ? `, prefix ${prefix}` : ''})`);
      }
      return { detail: 'format ok' };
    },
    async undoApply() {
      return {};
    },
    async retire() {
      return { detail: 'no target' };
    },
    async checkRejected() {
      return { rejected: true, detail: 'no target holds the value' };
    },
    async close() {},
  } satisfies Rotator<RandomSpec, string>;
}
