/**
 * The at-rest format of one encrypted blob: AES-256-GCM with a fresh 96-bit nonce and
 * associated data that binds the blob to where it belongs (secret id and version), so a
 * file copied over another is detected as surely as a flipped byte.
 *
 *   "RTV1" | nonce (12) | ciphertext | tag (16)
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('RTV1');
const NONCE = 12;
const TAG = 16;
const ENVELOPE_OVERHEAD = MAGIC.length + NONCE + TAG;

export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([MAGIC, nonce, body, cipher.getAuthTag()]);
}

export type OpenResult = { ok: true; plaintext: Buffer } | { ok: false; reason: 'truncated' | 'not-an-envelope' | 'authentication-failed' };

/** Never throws on bad input: the caller decides whether it is a wrong key or damage. */
export function open(key: Buffer, blob: Buffer, aad: string): OpenResult {
  if (blob.length < ENVELOPE_OVERHEAD) return { ok: false, reason: 'truncated' };
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, reason: 'not-an-envelope' };
  const nonce = blob.subarray(MAGIC.length, MAGIC.length + NONCE);
  const body = blob.subarray(MAGIC.length + NONCE, blob.length - TAG);
  const tag = blob.subarray(blob.length - TAG);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(tag);
    return { ok: true, plaintext: Buffer.concat([decipher.update(body), decipher.final()]) };
  } catch {
    return { ok: false, reason: 'authentication-failed' };
  }
}
