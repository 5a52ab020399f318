/**
 * Key material for `jwt-keyset`: generation with jose, kids from RFC 7638 thumbprints, and
 * the public JWKS (private members removed) that verifiers get.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, generateSecret, type JWK } from 'jose';
import type { JwtAlgorithm, PrivateJwk } from './schema.js';

/** Members of a private JWK that must never reach a JWKS. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export async function newSigningKey(alg: JwtAlgorithm, rsaBits = 2048): Promise<PrivateJwk> {
  let jwk: JWK;
  if (alg === 'HS256') {
    jwk = await exportJWK(await generateSecret('HS256', { extractable: true }));
  } else {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: rsaBits } : {}), ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    jwk = await exportJWK(privateKey);
  }
  // A symmetric key's thumbprint is a hash of the secret itself: its kid is random instead.
  const kid = alg === 'HS256' ? randomBytes(12).toString('base64url') : (await calculateJwkThumbprint(publicPart(jwk))).slice(0, 16);
  // WebCrypto export flags (ext, key_ops) describe this process's key object, not the key.
  const members: Record<string, unknown> = { ...jwk };
  delete members.ext;
  delete members.key_ops;
  return { ...members, kid, alg, use: 'sig' } as unknown as PrivateJwk;
}

/** The public half of a JWK. Symmetric keys have none: callers must not publish them. */
export function publicPart(jwk: JWK): JWK {
  const out: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete out[m];
  delete out.key_ops;
  return out as JWK;
}

export function publicJwks(keys: PrivateJwk[]): { keys: JWK[] } {
  return { keys: keys.filter((k) => k.kty !== 'oct').map((k) => publicPart(k)) };
}
