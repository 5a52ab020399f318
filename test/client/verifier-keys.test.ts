/**
 * Issue 12, item 8: which keys of a published set the verifier uses. One key jose cannot
 * import must not poison the set; keys without `alg` (common at identity providers) get the
 * algorithm their type implies; shared-secret keys without `alg` only when the caller lists
 * HS256; `none` and algorithm confusion are refused.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { base64url, SignJWT, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenVerifier, jwksUrl, KeySetUnavailableError } from '../../src/client/index.js';
import { jwks, startJwksServer, testKey, type JwksServer } from './jwks-server.js';

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const serve = async (body: string) => {
  const s = await startJwksServer(body);
  servers.push(s);
  return s;
};
const withoutAlg = ({ alg: _alg, ...jwk }: JWK): JWK => jwk;
const exp = () => Math.floor(Date.now() / 1000) + 3600;

describe('keys that cannot be used', () => {
  it('skips and counts an ES256K key, a point off its curve, an encryption key and a key without kid; the others verify', async () => {
    const good = await testKey('good');
    const secp256k1 = { ...(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' }) as JWK), kid: 'k256', alg: 'ES256K' };
    const offCurve = { kty: 'EC', crv: 'P-256', kid: 'broken', alg: 'ES256', x: good.jwk.x, y: good.jwk.x };
    const encryption = { ...good.jwk, kid: 'enc', use: 'enc' };
    const server = await serve(jwks(secp256k1, good, offCurve, encryption, { kty: 'EC', crv: 'P-256' }));
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url) });
    expect((await verifier.verify(await good.sign({ sub: 'alice' }))).payload.sub).toBe('alice');
    const { kids, skipped } = verifier.stats();
    expect(kids).toEqual(['good']);
    expect(skipped).toHaveLength(4);
    expect(skipped).toEqual([
      { kid: 'k256', reason: expect.stringMatching(/cannot be imported as ES256K/) },
      { kid: 'broken', reason: expect.stringMatching(/cannot be imported as ES256/) },
      { kid: 'enc', reason: expect.stringMatching(/"use" is "enc"/) },
      { reason: 'no "kid"' },
    ]);
  });

  it('a set with no usable key is a failed refresh: the last good set stays in use', async () => {
    const good = await testKey('good');
    const server = await serve(jwks(good));
    let clock = Date.now();
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), now: () => clock });
    const token = await good.sign();
    await verifier.verify(token);
    server.body = JSON.stringify({ keys: [{ kty: 'EC', crv: 'secp256k1', kid: 'k256', alg: 'ES256K', x: 'AA', y: 'AA' }] });
    clock += 61_000;
    await verifier.verify(token);
    expect(verifier.stats()).toMatchObject({ kids: ['good'], lastError: expect.stringMatching(/no usable key \(1 skipped: k256: cannot be imported/) });

    const fresh = createTokenVerifier({ jwks: jwksUrl(server.url) });
    await expect(fresh.verify(token)).rejects.toBeInstanceOf(KeySetUnavailableError);
  });
});

describe('keys without "alg"', () => {
  it.each([
    ['RSA', 'RS256'],
    ['EC P-256', 'ES256'],
    ['EC P-384', 'ES384'],
    ['OKP Ed25519', 'EdDSA'],
  ])('%s verifies %s tokens', async (_type, alg) => {
    const key = await testKey(`no-alg-${alg}`, alg);
    const server = await serve(jwks(withoutAlg(key.jwk)));
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url) });
    expect((await verifier.verify(await key.sign({ sub: alg }))).payload.sub).toBe(alg);
    expect(verifier.stats().skipped).toEqual([]);
  });

  it('an RSA key without alg is RS256 only: a PS256 token signed with it is refused', async () => {
    const key = await testKey('rsa', 'PS256');
    const server = await serve(jwks(withoutAlg(key.jwk)));
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url) });
    await expect(verifier.verify(await key.sign())).rejects.toThrow(/"alg" PS256 is not the key's RS256/);
  });
});

describe('symmetric keys, "none" and algorithm confusion', () => {
  it('uses an oct key without alg as HS256 only when algorithms lists HS256', async () => {
    const secret = randomBytes(32);
    const jwk = { kty: 'oct', k: secret.toString('base64url'), kid: 'shared' };
    const server = await serve(jwks(jwk));
    const token = await new SignJWT({ sub: 'svc' }).setProtectedHeader({ alg: 'HS256', kid: 'shared' }).setIssuedAt().setExpirationTime(exp()).sign(secret);

    const byDefault = createTokenVerifier({ jwks: jwksUrl(server.url) });
    await expect(byDefault.verify(token)).rejects.toBeInstanceOf(KeySetUnavailableError); // the set's only key is skipped
    expect(byDefault.stats().lastError).toMatch(/no usable key \(1 skipped: shared: no "alg", and none is implied by kty "oct"\)/);

    const allowing = createTokenVerifier({ jwks: jwksUrl(server.url), algorithms: ['HS256'] });
    expect((await allowing.verify(token)).payload.sub).toBe('svc');
  });

  it('refuses an HS256 token keyed with a published RSA public key, an unsigned token, and a key declaring alg none', async () => {
    const rsa = await testKey('rsa', 'RS256');
    const server = await serve(jwks(withoutAlg(rsa.jwk), { ...(await testKey('n')).jwk, alg: 'none' }));
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), algorithms: ['RS256', 'HS256'] });
    expect((await verifier.verify(await rsa.sign({ sub: 'real' }))).payload.sub).toBe('real');
    expect(verifier.stats().skipped).toEqual([{ kid: 'n', reason: expect.stringMatching(/"alg" "none" is never accepted/) }]);

    // The classic confusion: HMAC with the public key's bytes, as a careless verifier would take them.
    const pem = createPublicKey({ key: rsa.jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secret of [Buffer.from(pem), Buffer.from(rsa.jwk.n!, 'base64url')]) {
      const forged = await new SignJWT({ sub: 'admin' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa' }).setIssuedAt().setExpirationTime(exp()).sign(secret);
      await expect(verifier.verify(forged)).rejects.toThrow(/"alg" HS256 is not the key's RS256/);
    }
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', kid: 'rsa' }))}.${base64url.encode(JSON.stringify({ sub: 'admin', exp: exp() }))}.`;
    await expect(verifier.verify(unsigned)).rejects.toThrow(/"alg" none is not the key's RS256/);
    const unsignedN = `${base64url.encode(JSON.stringify({ alg: 'none', kid: 'n' }))}.${base64url.encode(JSON.stringify({ sub: 'admin', exp: exp() }))}.`;
    await expect(verifier.verify(unsignedN)).rejects.toThrow(/no applicable key/);
  });
});
