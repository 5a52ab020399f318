/**
 * What consumers are given of a keyring: the primary, plus a key only while it is the
 * primary of a live version (rows not yet re-encrypted need it); a retired version's key is
 * dropped. The jwt-keyset rule is tested end to end in test/consumers/key-delivery.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyringRotator } from '../../src/rotators/keyring/rotator.js';

const key = (id: string) => ({ id, key: randomBytes(32).toString('base64') });

describe('keyring forConsumers', () => {
  it('keeps the previous key while its version is live and drops it once retired', () => {
    const rotator = createKeyringRotator({ now: Date.now, baseDir: '/' });
    const [k1, k2, k3] = [key('k1'), key('k2'), key('k3')];
    const v2 = { primary: 'k2', keys: [k2, k1] };
    const v3 = { primary: 'k3', keys: [k3, k2] };
    expect(rotator.forConsumers({ value: v3, live: [v2] }).keys).toEqual([k3, k2]);
    expect(rotator.forConsumers({ value: v3, live: [] }).keys).toEqual([k3]);
    // v2 restored by a rollback while v3 is pending: v1's key stays out.
    expect(rotator.forConsumers({ value: v2, live: [v3] }).keys).toEqual([k2]);
    expect(v3.keys).toEqual([k3, k2]); // the stored value is not touched
  });
});
