/**
 * The invariant for `jwt-keyset` (with a published JWKS) and `keyring`: a rotation killed
 * at each of the 12 step boundaries, checked right after the crash and after `rotor resume`.
 * For the key set, the published JWKS is what verifiers accept: every kid in it must belong
 * to a stored version, and a token signed with the key staged `current` must verify
 * against it. For the keyring, the current value must encrypt and decrypt.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeyring, createTokenSigner, type JwtKeySet, type KeyringValue } from 'rotor/client';
import { Sandbox } from '../helpers/sandbox.js';

const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
const BOUNDARIES = STEPS.flatMap((s) => [`${s}:before`, `${s}:after`]);
const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

async function stored(sb: Sandbox, id: string) {
  const h = JSON.parse((await sb.ok(['history', id, '--json'])).stdout) as { versions: { version: number; stage: string }[] };
  return Promise.all(h.versions.map(async (v) => ({ ...v, value: JSON.parse((await sb.ok(['get', id, '--version', String(v.version)])).stdout) })));
}

const CASES = [
  {
    name: 'jwt-keyset ES256',
    secret: '{ id: k/s, type: jwt-keyset, algorithm: ES256, jwksFile: jwks.json }',
    async check(sb: Sandbox, when: string) {
      const versions = await stored(sb, 'k/s');
      const current = versions.filter((v) => v.stage === 'current');
      expect(current, `${when}: one current`).toHaveLength(1);
      const jwks = JSON.parse(readFileSync(sb.path('jwks.json'), 'utf8')) as { keys: JWK[] };
      const storedKids = new Set(versions.flatMap((v) => (v.value as JwtKeySet).keys.map((k) => k.kid)));
      for (const k of jwks.keys) expect(storedKids.has(k.kid!), `${when}: published kid ${k.kid} is a stored key`).toBe(true);
      const token = await createTokenSigner(() => current[0]!.value as JwtKeySet).sign({ probe: when });
      await expect(jwtVerify(token, createLocalJWKSet(jwks)), `${when}: the current key's tokens verify`).resolves.toBeTruthy();
      return { versions, jwks };
    },
  },
  {
    name: 'keyring',
    secret: '{ id: k/s, type: keyring }',
    async check(sb: Sandbox, when: string) {
      const versions = await stored(sb, 'k/s');
      const current = versions.filter((v) => v.stage === 'current');
      expect(current, `${when}: one current`).toHaveLength(1);
      const ring = createKeyring(current[0]!.value as KeyringValue);
      expect(ring.decryptString(ring.encrypt(when))).toBe(when);
      return { versions, jwks: undefined };
    },
  },
];

describe.each(CASES)('$name: crash at every step boundary, then resume', (c) => {
  it.each(BOUNDARIES)('%s', async (boundary) => {
    const sb = new Sandbox(`version: 1\nsecrets:\n  - ${c.secret}\n`);
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'k/s', '--no-grace']);
    await sb.ok(['rotate', 'k/s', '--no-grace']);
    const crashed = await sb.run(['rotate', 'k/s', '--no-grace'], { ROTOR_CRASH_AT: boundary });
    expect(crashed.signal).toBe('SIGKILL');
    await c.check(sb, 'after the crash');
    const resumed = await sb.ok(['resume']);
    expect(resumed.stdout).not.toMatch(/FAILED|ROLLED BACK/);
    const { versions, jwks } = await c.check(sb, 'after resume');
    expect(versions.map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    if (jwks) expect(jwks.keys.map((k) => k.kid)).toEqual([(versions[2]!.value as JwtKeySet).kid]);
    await sb.ok(['audit', 'verify']);
  });
});
