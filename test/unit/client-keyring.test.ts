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

describe('rotor/client keyring input (issue 12, item 11)', () => {
  const a = key('keyA');
  const ring = createKeyring({ primary: 'keyA', keys: [a] });

  it('decrypts only the one canonical spelling of a ciphertext', () => {
    // A plaintext whose encoding has both a '-' and a '_' to respell, and a length that leaves spare bits.
    let c = '';
    let body = '';
    for (let i = 0; !(body.includes('-') && body.includes('_')); i++) {
      c = ring.encrypt(`card ${i}`);
      body = c.slice('rk1:keyA:'.length);
    }
    if (body.length % 4 === 0) throw new Error('a body without spare bits: change the plaintext length');
    expect(ring.decryptString(c)).toMatch(/^card /);
    const last = body.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spareBits = alphabet[alphabet.indexOf(last) ^ 1]!; // same bytes, a non-zero padding bit
    const variants = [
      `${c}=`,
      `${c}==`,
      c.replace('-', '+'),
      c.replace('_', '/'),
      `${c.slice(0, 20)}!${c.slice(20)}`,
      `${c.slice(0, 20)} ${c.slice(20)}`,
      `${c}\n`,
      `${c.slice(0, -1)}${spareBits}`,
    ];
    for (const v of variants) {
      expect(Buffer.from(v.slice('rk1:keyA:'.length), 'base64url').equals(Buffer.from(body, 'base64url'))).toBe(true); // Buffer.from reads them all alike
      expect(() => ring.decrypt(v), JSON.stringify(v)).toThrow(/not canonical base64url/);
    }
  });

  it('accepts only 256-bit keys in canonical base64, with ids as Rotor makes them', () => {
    const k32 = randomBytes(32).toString('base64');
    const k16 = randomBytes(16).toString('base64');
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: k16 }] })).toThrow(/key a is 128 bits; AES-256-GCM needs exactly 256/);
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: k32 }, { id: 'old', key: k16 }] })).toThrow(/key old is 128 bits/);
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: randomBytes(33).toString('base64') }] })).toThrow(/264 bits/);
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: k32.replace('=', '') }] })).toThrow(/not canonical base64/);
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: ` ${k32}` }] })).toThrow(/not canonical base64/);
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: Buffer.from(k32, 'base64').toString('base64url') }] })).toThrow(/not canonical base64/);
    expect(() => createKeyring({ primary: 'a:b', keys: [{ id: 'a:b', key: k32 }] })).toThrow(/key id "a:b"/);
    expect(() => createKeyring({ primary: 'a', keys: [{ id: 'a', key: k32 }, { id: 'a', key: k32 }] })).toThrow(/two keys with id a/);
    expect(() => createKeyring({ primary: 'b', keys: [{ id: 'a', key: k32 }] })).toThrow(/no primary key b/);
    expect(createKeyring({ primary: 'a', keys: [{ id: 'a', key: k32 }] }).primaryId).toBe('a');
  });
});
