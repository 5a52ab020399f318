/**
 * The `jwt-keyset` lines: the target is the published key set file (a JWKS, or for HS256
 * the shared keys), and a key works when jose verifies its token against that file.
 *
 * @example
 * runRotatorConformance(jwtLine('ES256'));
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, generateSecret, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import type { Json } from '../../../src/rotators/types.js';
import type { ConformanceLine, Ctx, Existing, Probe } from './types.js';

type Jwk = { kid: string; kty: string; [member: string]: Json };
export type KeySet = { alg: string; kid: string; keys: Jwk[]; [field: string]: Json };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const PUBLISHED = 'published.json';

async function newKey(alg: string): Promise<Jwk> {
  const key = alg === 'HS256'
    ? await generateSecret('HS256', { extractable: true })
    : (await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })).privateKey;
  const jwk: Record<string, unknown> = { ...(await exportJWK(key)) };
  delete jwk.ext;
  delete jwk.key_ops;
  return { ...(jwk as Jwk), kid: `pre-${randomBytes(6).toString('hex')}`, alg, use: 'sig' };
}

/** What verifiers are given: public keys (JWKS), or for HS256 the shared keys. */
function published(alg: string, keys: Jwk[]): { keys: Jwk[] } {
  if (alg === 'HS256') return { keys: keys.map(({ kid, kty, k, alg: a }) => ({ kid, kty, k: k ?? null, alg: a ?? null })) };
  return { keys: keys.map((k) => Object.fromEntries(Object.entries(k).filter(([m]) => !PRIVATE_MEMBERS.includes(m))) as Jwk) };
}

export function jwtLine(alg: 'HS256' | 'RS256' | 'ES256' | 'EdDSA'): ConformanceLine<KeySet> {
  const file = (ctx: Ctx) => join(ctx.dir, PUBLISHED);
  const read = (ctx: Ctx) => (existsSync(file(ctx)) ? (JSON.parse(readFileSync(file(ctx), 'utf8')) as { keys: Jwk[] }) : undefined);
  const probe: Probe<KeySet> = {
    async accepts(ctx, v) {
      const set = read(ctx);
      const key = v.keys.find((k) => k.kid === v.kid);
      if (!set || !key) return false;
      const token = await new SignJWT({ probe: true }).setProtectedHeader({ alg: v.alg, kid: v.kid }).setIssuedAt().setExpirationTime('1m')
        .sign(await importJWK(key as JWK, v.alg));
      try {
        if (alg === 'HS256') {
          const shared = set.keys.find((k) => k.kid === v.kid);
          if (!shared) return false;
          await jwtVerify(token, await importJWK(shared as JWK, 'HS256'));
        } else {
          await jwtVerify(token, createLocalJWKSet(set as { keys: JWK[] }));
        }
        return true;
      } catch {
        return false;
      }
    },
    async unexplained(ctx, _login, stored) {
      // Every published key must be a stored key: same kid, same public (for HS256: shared) material.
      const keys = stored.flatMap((v) => v.keys);
      return (read(ctx)?.keys ?? [])
        .filter((p) => !keys.some((k) => Object.entries(p).every(([m, val]) => JSON.stringify(k[m] ?? null) === JSON.stringify(val))))
        .map((p) => `published key ${p.kid} is no stored key`);
    },
    snapshot: async (ctx) => (existsSync(file(ctx)) ? readFileSync(file(ctx), 'utf8') : null),
  };
  return {
    name: `jwt-keyset ${alg}`,
    type: 'jwt-keyset',
    fields: (): Record<string, Json> => (alg === 'HS256' ? { algorithm: alg, keysetFile: PUBLISHED } : { algorithm: alg, jwksFile: PUBLISHED }),
    login: (tag) => tag,
    clean: async () => {},
    async existing(ctx): Promise<Existing<KeySet>> {
      // A key the services sign with today, published before Rotor.
      const key = await newKey(alg);
      writeFileSync(file(ctx), `${JSON.stringify(published(alg, [key]), null, 2)}\n`, { mode: alg === 'HS256' ? 0o600 : 0o644 });
      const value: KeySet = { alg, kid: key.kid, keys: [key] };
      return { input: JSON.stringify(value), value, refused: JSON.stringify({ alg, kid: key.kid, keys: [] }) };
    },
    probe,
    secretsOf: (v) => v.keys.flatMap((k) => PRIVATE_MEMBERS.map((m) => k[m]).filter((s): s is string => typeof s === 'string')),
  };
}
