/**
 * Issue 12, item 9: the verifier's time checks use its own clock (`now`), require `exp`,
 * refuse an `iat` in the future, and allow `clockToleranceMs` of skew (default 30 s).
 */
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type VerifierOptions } from '../../src/client/index.js';

let sign: (claims: JWTPayload) => Promise<string>;
let jwks: { keys: object[] };
beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] };
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k' }).sign(privateKey);
});

const s = () => Math.floor(Date.now() / 1000);
const verifier = (opts: Partial<VerifierOptions> = {}) => createTokenVerifier({ jwks: () => jwks, ...opts });
const accepts = (token: string, opts?: Partial<VerifierOptions>) => verifier(opts).verify(token).then(() => true, () => false);

describe('exp', () => {
  it('is required by default; requireExp: false accepts a token without one', async () => {
    const token = await sign({ iat: s() });
    await expect(verifier().verify(token)).rejects.toThrow(/missing required "exp" claim/);
    expect(await accepts(token, { requireExp: false })).toBe(true);
  });

  it('is allowed clockToleranceMs of skew (default 30 s)', async () => {
    const lately = await sign({ iat: s() - 600, exp: s() - 10 });
    expect(await accepts(lately)).toBe(true);
    expect(await accepts(lately, { clockToleranceMs: 0 })).toBe(false);
    await expect(verifier().verify(await sign({ iat: s() - 600, exp: s() - 60 }))).rejects.toThrow(/"exp" claim timestamp check failed/);
  });
});

describe('iat', () => {
  it('an hour in the future is refused; within the tolerance it is accepted', async () => {
    await expect(verifier().verify(await sign({ iat: s() + 3600, exp: s() + 7200 }))).rejects.toThrow(/"iat" claim timestamp check failed \(issued in the future\)/);
    expect(await accepts(await sign({ iat: s() + 20, exp: s() + 3600 }))).toBe(true);
    expect(await accepts(await sign({ iat: s() + 20, exp: s() + 3600 }), { clockToleranceMs: 5_000 })).toBe(false);
    expect(await accepts(await sign({ iat: s() + 20, exp: s() + 3600 }), { clockToleranceMs: 60_000 })).toBe(true);
  });
});

describe('nbf', () => {
  it('in the future beyond the tolerance is refused', async () => {
    expect(await accepts(await sign({ iat: s(), nbf: s() + 20, exp: s() + 3600 }))).toBe(true);
    await expect(verifier().verify(await sign({ iat: s(), nbf: s() + 120, exp: s() + 3600 }))).rejects.toThrow(/"nbf" claim timestamp check failed/);
  });
});

describe("the verifier's clock", () => {
  it('decides exp, nbf and iat, not the machine time', async () => {
    const token = await sign({ iat: s(), nbf: s(), exp: s() + 3600 });
    const at = (offsetS: number) => ({ now: () => Date.now() + offsetS * 1000 });
    expect(await accepts(token, at(0))).toBe(true);
    await expect(verifier(at(7200)).verify(token)).rejects.toThrow(/"exp" claim timestamp check failed/);
    await expect(verifier(at(-7200)).verify(token)).rejects.toThrow(/"nbf" claim timestamp check failed/);
    const noNbf = await sign({ iat: s(), exp: s() + 3600 });
    await expect(verifier(at(-600)).verify(noNbf)).rejects.toThrow(/"iat" claim timestamp check failed/);
  });
});
