/**
 * Envelope-free field encryption with a `keyring` secret: encrypt with the primary key,
 * decrypt with whichever key the ciphertext names. The format carries the key id, so
 * decrypting never has to guess and re-encryption can find what is left under old keys:
 *
 *   rk1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>      AES-256-GCM, AAD = "rk1:<key id>" ‖ aad
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A `keyring` value, as `rotor get` prints it and consumers receive it. */
export interface KeyringValue {
  primary: string;
  keys: { id: string; key: string }[];
}

export const CIPHERTEXT_PREFIX = 'rk1';

export interface Keyring {
  readonly primaryId: string;
  encrypt(plaintext: string | Buffer, aad?: string): string;
  decrypt(ciphertext: string, aad?: string): Buffer;
  decryptString(ciphertext: string, aad?: string): string;
  /** The key id a ciphertext was made with, or undefined when it is not in this format. */
  keyIdOf(ciphertext: string): string | undefined;
}

export function keyIdOf(ciphertext: string): string | undefined {
  if (!ciphertext.startsWith(`${CIPHERTEXT_PREFIX}:`)) return undefined;
  const end = ciphertext.indexOf(':', CIPHERTEXT_PREFIX.length + 1);
  return end < 0 ? undefined : ciphertext.slice(CIPHERTEXT_PREFIX.length + 1, end);
}

export function createKeyring(value: KeyringValue): Keyring {
  const keys = new Map(value.keys.map((k) => [k.id, Buffer.from(k.key, 'base64')]));
  const primary = keys.get(value.primary);
  if (!primary || primary.length !== 32) throw new Error(`keyring has no 256-bit primary key ${value.primary}`);
  const aadOf = (id: string, aad?: string) => Buffer.from(`${CIPHERTEXT_PREFIX}:${id}${aad === undefined ? '' : `\0${aad}`}`);

  const decrypt = (ciphertext: string, aad?: string): Buffer => {
    const id = keyIdOf(ciphertext);
    if (id === undefined) throw new Error('not a keyring ciphertext (no rk1:<key id>: prefix)');
    const key = keys.get(id);
    if (!key) throw new Error(`key ${id} is not in this keyring (retired, or a different keyring)`);
    const blob = Buffer.from(ciphertext.slice(CIPHERTEXT_PREFIX.length + id.length + 2), 'base64url');
    if (blob.length < 28) throw new Error('ciphertext is truncated');
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAAD(aadOf(id, aad));
    d.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
  };

  return {
    primaryId: value.primary,
    keyIdOf,
    encrypt(plaintext, aad) {
      const nonce = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', primary, nonce);
      c.setAAD(aadOf(value.primary, aad));
      const body = Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
      return `${CIPHERTEXT_PREFIX}:${value.primary}:${body.toString('base64url')}`;
    },
    decrypt,
    decryptString: (ciphertext, aad) => decrypt(ciphertext, aad).toString('utf8'),
  };
}
