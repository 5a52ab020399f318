import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, keyIdOf } from '../../src/client/keyring.js';

const key = (id: string) => ({ id, key: randomBytes(32).toString('base64') });

describe('rotor/client keyring', () => {
  const a = key('keyA');
  const b = key('keyB');
  const old = createKeyring({ primary: 'keyA', keys: [a] });
  const ring = createKeyring({ primary: 'keyB', keys: [b, a] });

  it('encrypts with the primary, names its key, and decrypts by that name', () => {
    const c = ring.encrypt('4111 1111 1111 1111');
    expect(c).toMatch(/^rk1:keyB:[A-Za-z0-9_-]+$/);
    expect(keyIdOf(c)).toBe('keyB');
    expect(ring.decryptString(c)).toBe('4111 1111 1111 1111');
    expect(ring.decryptString(old.encrypt('legacy'))).toBe('legacy');
    expect(ring.encrypt('same')).not.toBe(ring.encrypt('same'));
  });

  it('refuses a changed byte, a different AAD, a renamed key id, and a key it does not hold', () => {
    const c = ring.encrypt('x', 'row-1');
    const body = Buffer.from(c.slice('rk1:keyB:'.length), 'base64url');
    body[14]! ^= 1;
    expect(() => ring.decrypt(`rk1:keyB:${body.toString('base64url')}`, 'row-1')).toThrow();
    expect(() => ring.decrypt(c, 'row-2')).toThrow();
    expect(() => ring.decrypt(c.replace('rk1:keyB:', 'rk1:keyA:'), 'row-1')).toThrow();
    expect(() => old.decrypt(c, 'row-1')).toThrow(/key keyB is not in this keyring/);
    expect(() => ring.decrypt('plaintext')).toThrow(/not a keyring ciphertext/);
  });
});
