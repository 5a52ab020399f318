/**
 * `keyring`: AES-256 keys with ids. A rotation adds a new primary and keeps the key it
 * replaces so existing data stays readable; `rotor reencrypt` moves the data to the new
 * key; retire drops the old key — and refuses while any row is still encrypted under it
 * (unless forced), because retiring a key that data still needs would make that data
 * unreadable for every service that is given the new keyring.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createKeyring } from '../../client/keyring.js';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps, TargetRef } from '../types.js';
import { networkProblem } from '../shared/target-url.js';
import { rowsUnderKey } from './data.js';
import type { KeyringSpec, KeyringValueOf } from './schema.js';

export function createKeyringRotator(_deps: RotatorDeps) {
  const pools = new Map<string, pg.Pool>();
  const pool = (target: TargetRef) => {
    let p = pools.get(target.url);
    if (!p) {
      p = new pg.Pool({ connectionString: target.url, max: 2, connectionTimeoutMillis: 10_000, application_name: 'rotor' });
      p.on('error', () => {});
      pools.set(target.url, p);
    }
    return p;
  };

  async function remaining(spec: KeyringSpec, target: TargetRef | undefined, keyId: string): Promise<number | undefined> {
    if (!spec.data || !target) return undefined;
    try {
      return await rowsUnderKey(pool(target), spec.data, keyId);
    } catch (err) {
      throw networkProblem(err, `target ${target.name}`) ?? new RotorError(`cannot count rows in ${spec.data.table}: ${(err as Error).message}`, { outcome: 'usage', cause: err });
    }
  }

  return {
    async preflight({ spec, target }) {
      if (spec.data && !target) throw new RotorError('`data` needs `target`: the postgres target holding the table', { outcome: 'usage' });
      if (spec.data && target) {
        const n = await remaining(spec, target, '__none__');
        return { notes: [`data in ${spec.data.table}.${spec.data.column} is reachable (${n === 0 ? 'ok' : n})`] };
      }
      return { notes: [] };
    },

    async generate({ current }) {
      const key = { id: randomBytes(6).toString('base64url'), key: randomBytes(32).toString('base64') };
      // The key being replaced stays so existing ciphertext decrypts until re-encryption ends.
      const previous = current?.keys.find((k) => k.id === current.primary);
      return { value: { primary: key.id, keys: previous ? [key, previous] : [key] } };
    },

    async apply() {
      return { detail: 'nothing to apply: data moves to the new key with `rotor reencrypt`' };
    },

    async verify({ value }) {
      const ring = createKeyring(value);
      const probe = randomBytes(16).toString('hex');
      if (ring.decryptString(ring.encrypt(probe, 'rotor-verify'), 'rotor-verify') !== probe) throw new Error('keyring round trip failed');
      for (const k of value.keys) if (Buffer.from(k.key, 'base64').length !== 32) throw new Error(`key ${k.id} is not 256 bits`);
      return { detail: `encrypt/decrypt round trip with ${value.primary}` };
    },

    async undoApply() {
      return {};
    },

    async retire({ spec, target, retiring, force, emergency }) {
      if (!retiring) return { detail: 'first key: nothing before it to retire' };
      const left = await remaining(spec, target, retiring.primary);
      if (left && !force) {
        throw new RotorError(`${left} row${left === 1 ? ' is' : 's are'} still encrypted under key ${retiring.primary} in ${spec.data!.table}`, {
          outcome: 'needs-person',
          hint: `run \`rotor reencrypt\` for this secret, then \`rotor retire\` again${emergency ? '' : ' (or --force to retire anyway: those rows stay readable only with the old version, `rotor get --version`)'}`,
        });
      }
      return { detail: left ? `key ${retiring.primary} retired with ${left} rows still under it (forced)` : `key ${retiring.primary} retired${spec.data ? `; no row in ${spec.data.table} uses it` : ''}` };
    },

    async checkRejected({ spec, target, retired }) {
      if (!retired) return { rejected: true, detail: 'first key: nothing before it' };
      const left = await remaining(spec, target, retired.primary);
      return { rejected: true, detail: left === undefined ? 'no data configured' : `${left} rows under ${retired.primary}` };
    },

    forConsumers({ value, live }) {
      // A key stays while it is the primary of a live version: readers need it for rows not
      // yet re-encrypted. Once its version is retired (no row left under it), it goes.
      return { ...value, keys: value.keys.filter((k) => k.id === value.primary || live.some((v) => v.primary === k.id)) };
    },

    async close() {
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
    },
  } satisfies Rotator<KeyringSpec, KeyringValueOf>;
}
