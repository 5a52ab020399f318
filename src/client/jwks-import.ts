/**
 * Turns a fetched JWK set into verification keys, one per kid, each bound to one algorithm.
 * A key that cannot be used is skipped and reported, never fatal: one exotic key at an
 * identity provider (an `ES256K` key, an encryption key) must not take the others down.
 *
 * A key without `alg` gets the one its type implies — RSA → RS256, EC P-256/P-384/P-521 →
 * ES256/ES384/ES512, OKP Ed25519 → EdDSA. A shared-secret (`oct`) key without `alg` is
 * taken as HS256 only when the caller's `algorithms` lists HS256: a published set should not
 * hold one, and guessing a symmetric algorithm is how algorithm-confusion attacks begin.
 * `none` is never accepted.
 */
import { importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { JwksDocument } from './jwks-source.js';

export interface VerificationKey {
  key: CryptoKey | KeyObject | Uint8Array;
  /** The one algorithm this key verifies; a token whose header names another is refused. */
  alg: string;
  /** The JWK as fetched, so an unchanged key is not imported again on every refresh. */
  source: string;
}

export interface SkippedKey {
  kid?: string;
  reason: string;
}

export interface ImportedKeySet {
  keys: Map<string, VerificationKey>;
  skipped: SkippedKey[];
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;
const EC_ALGS: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/** The algorithm a key is used with, or why it is not used. */
export function algorithmOf(jwk: JWK, algorithms?: readonly string[]): { alg: string } | { skip: string } {
  if (jwk.use !== undefined && jwk.use !== 'sig') return { skip: `"use" is ${JSON.stringify(jwk.use)}, not "sig"` };
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return { skip: '"key_ops" does not allow "verify"' };
  const alg = jwk.alg ?? inferred(jwk, algorithms);
  if (alg === undefined) return { skip: `no "alg", and none is implied by kty ${JSON.stringify(jwk.kty)}${jwk.crv ? ` crv ${JSON.stringify(jwk.crv)}` : ''}` };
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') return { skip: `"alg" ${JSON.stringify(alg)} is never accepted` };
  if (algorithms && !algorithms.includes(alg)) return { skip: `"alg" ${alg} is not in the verifier's algorithms` };
  return { alg };
}

function inferred(jwk: JWK, algorithms?: readonly string[]): string | undefined {
  switch (jwk.kty) {
    case 'RSA':
      return 'RS256';
    case 'EC':
      return EC_ALGS[jwk.crv ?? ''];
    case 'OKP':
      return jwk.crv === 'Ed25519' ? 'EdDSA' : undefined;
    case 'oct':
      return algorithms?.includes('HS256') ? 'HS256' : undefined;
    default:
      return undefined;
  }
}

/** Imports every usable key of `doc`; keys already in `previous` with the same JWK are reused. */
export async function importKeySet(doc: JwksDocument, previous: ReadonlyMap<string, VerificationKey>, algorithms?: readonly string[]): Promise<ImportedKeySet> {
  const keys = new Map<string, VerificationKey>();
  const skipped: SkippedKey[] = [];
  for (const jwk of doc.keys as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      skipped.push({ reason: 'not a JSON object' });
      continue;
    }
    const { kid } = jwk as JWK;
    if (typeof kid !== 'string' || kid === '') {
      skipped.push({ reason: 'no "kid"' });
      continue;
    }
    if (keys.has(kid)) {
      skipped.push({ kid, reason: 'a second key with the same kid (the first one is used)' });
      continue;
    }
    const use = algorithmOf(jwk as JWK, algorithms);
    if ('skip' in use) {
      skipped.push({ kid, reason: use.skip });
      continue;
    }
    const source = `${use.alg}\0${JSON.stringify(jwk)}`;
    const known = previous.get(kid);
    if (known?.source === source) {
      keys.set(kid, known);
      continue;
    }
    try {
      keys.set(kid, { key: await importJWK(publicPart(jwk as JWK), use.alg), alg: use.alg, source });
    } catch (err) {
      skipped.push({ kid, reason: `cannot be imported as ${use.alg}: ${(err as Error).message}` });
    }
  }
  return { keys, skipped };
}

/** A verifier needs only the public half; a set published with private members still verifies. */
function publicPart(jwk: JWK): JWK {
  if (jwk.kty === 'oct') return jwk;
  const pub: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete pub[m];
  return pub as JWK;
}
