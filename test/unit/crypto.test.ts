import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { open, seal } from '../../src/crypto/envelope.js';
import { ENCODING_ALPHABET, randomString, type Encoding } from '../../src/crypto/generate.js';
import { deriveKeys, loadMasterKey } from '../../src/crypto/master-key.js';
import { MasterKeyError } from '../../src/errors.js';

describe('envelope', () => {
  const key = randomBytes(32);
  it('round-trips and binds the associated data', () => {
    const blob = seal(key, Buffer.from('value'), 'a\x001');
    expect(open(key, blob, 'a\x001')).toEqual({ ok: true, plaintext: Buffer.from('value') });
    expect(open(key, blob, 'a\x002')).toEqual({ ok: false, reason: 'authentication-failed' });
    expect(open(randomBytes(32), blob, 'a\x001')).toEqual({ ok: false, reason: 'authentication-failed' });
  });
  it('detects every single flipped bit', () => {
    const blob = seal(key, Buffer.from('value'), 'x');
    for (let i = 0; i < blob.length * 8; i += 7) {
      const bad = Buffer.from(blob);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(open(key, bad, 'x').ok).toBe(false);
    }
  });
  it('says truncated for short input', () => expect(open(key, Buffer.alloc(5), 'x')).toEqual({ ok: false, reason: 'truncated' }));
});

describe('random strings', () => {
  it.each<Encoding>(['base64', 'base64url', 'hex', 'alnum'])('%s: exact length, right alphabet, no repeats', (enc) => {
    const seen = new Set<string>();
    for (const len of [16, 17, 31, 32, 64, 101]) {
      const s = randomString(len, enc);
      expect(s).toHaveLength(len);
      expect(s).toMatch(ENCODING_ALPHABET[enc]);
      expect(seen.has(s)).toBe(false);
      seen.add(s);
    }
  });
  it('alnum is unbiased enough: every character appears in a large sample', () => {
    const chars = new Set(randomString(20_000, 'alnum'));
    expect(chars.size).toBe(62);
  });
});

describe('master key', () => {
  it('takes ROTOR_MASTER_KEY first and derives distinct purpose keys', () => {
    const master = randomBytes(32);
    const key = loadMasterKey({ env: { ROTOR_MASTER_KEY: master.toString('base64') }, defaultFile: '/nonexistent' });
    expect(key.equals(master)).toBe(true);
    const d = deriveKeys(master);
    expect(d.vault.equals(d.fingerprint)).toBe(false);
    expect(d.vault.equals(master)).toBe(false);
    expect(deriveKeys(master).keyId).toBe(d.keyId);
  });
  it.each(['short', Buffer.alloc(31).toString('base64'), '!!!!'])('refuses %j with how to make one', (bad) => {
    expect(() => loadMasterKey({ env: { ROTOR_MASTER_KEY: bad }, defaultFile: '/x' })).toThrow(MasterKeyError);
  });
  it('says how to get a key when none is set', () => {
    try {
      loadMasterKey({ env: {}, defaultFile: '/nonexistent/master.key' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MasterKeyError);
      expect((err as MasterKeyError).hint).toMatch(/ROTOR_MASTER_KEY.*rotor init/);
    }
  });
});
