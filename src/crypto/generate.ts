/**
 * Random strings from the OS CSPRNG. Each output character carries full entropy: alnum
 * uses rejection sampling rather than a modulo, which would favour some characters.
 */
import { randomBytes } from 'node:crypto';

export type Encoding = 'base64' | 'base64url' | 'hex' | 'alnum';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` is the number of output characters, not bytes. */
export function randomString(length: number, encoding: Encoding): string {
  switch (encoding) {
    case 'hex':
      return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
    case 'base64':
      return randomBytes(Math.ceil((length * 3) / 4) + 3).toString('base64').replace(/=+$/, '').slice(0, length);
    case 'base64url':
      return randomBytes(Math.ceil((length * 3) / 4) + 3).toString('base64url').slice(0, length);
    case 'alnum':
      return alnum(length);
  }
}

function alnum(length: number): string {
  let out = '';
  // 248 = 4 × 62: bytes at or above it would bias the first characters of ALNUM.
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALNUM[byte % 62];
    }
  }
  return out;
}

export const ENCODING_ALPHABET: Record<Encoding, RegExp> = {
  hex: /^[0-9a-f]*$/,
  base64: /^[A-Za-z0-9+/]*$/,
  base64url: /^[A-Za-z0-9_-]*$/,
  alnum: /^[A-Za-z0-9]*$/,
};
