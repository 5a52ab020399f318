/**
 * `jwt-keyset` for each algorithm: a token signed before a rotation verifies during grace
 * with a verifier built only from what Rotor published — `jose` as the independent
 * verifier, and the `rotor/client` SDK — new tokens carry the new kid, and after retire
 * the old token is refused. The published JWKS never holds a private member.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createTokenSigner, createTokenVerifier, jwksFile, type JwtKeySet } from 'rotor/client';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

async function keySet(sb: Sandbox, id: string, stage = 'current'): Promise<JwtKeySet> {
  return JSON.parse((await sb.ok(['get', id, '--stage', stage])).stdout) as JwtKeySet;
}

/** The independent check: jose, given only the published file. */
async function joseAccepts(file: string, token: string, alg: string): Promise<boolean> {
  const set = JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] };
  try {
    if (alg === 'HS256') {
      const key = set.keys.find((k) => k.kid === decodeProtectedHeader(token).kid);
      if (!key) return false;
      await jwtVerify(token, await importJWK(key, 'HS256'));
    } else {
      await jwtVerify(token, createLocalJWKSet(set));
    }
    return true;
  } catch {
    return false;
  }
}

describe.each(['RS256', 'ES256', 'EdDSA', 'HS256'] as const)('jwt-keyset %s', (alg) => {
  it('old tokens verify during grace against what was published, new tokens carry the new kid, old tokens are refused after retire', async () => {
    const fileField = alg === 'HS256' ? 'keysetFile: keys/hs.json' : 'jwksFile: public/jwks.json';
    const sb = new Sandbox(`version: 1\nsecrets:\n  - { id: auth/jwt, type: jwt-keyset, algorithm: ${alg}, ${fileField}, grace: 1h }\n`);
    sandboxes.push(sb);
    const file = sb.path(alg === 'HS256' ? 'keys/hs.json' : 'public/jwks.json');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);

    let delivered = await keySet(sb, 'auth/jwt');
    const signer = createTokenSigner(() => delivered);
    const verifier = createTokenVerifier({ jwks: jwksFile(file), maxAgeMs: 0 });
    const oldToken = await signer.sign({ sub: 'alice' }, { expiresIn: '1h' });
    const oldKid = delivered.kid;
    expect(decodeProtectedHeader(oldToken)).toMatchObject({ alg, kid: oldKid });
    expect(await joseAccepts(file, oldToken, alg)).toBe(true);

    await sb.ok(['rotate', 'auth/jwt']);
    delivered = await keySet(sb, 'auth/jwt');
    expect(delivered.kid).not.toBe(oldKid);
    const newToken = await signer.sign({ sub: 'bob' }, { expiresIn: '1h' });
    expect(decodeProtectedHeader(newToken).kid).toBe(delivered.kid);
    // During grace: both verify, with jose from the file alone and with the SDK.
    expect(await joseAccepts(file, oldToken, alg)).toBe(true);
    expect(await joseAccepts(file, newToken, alg)).toBe(true);
    expect((await verifier.verify(oldToken)).payload.sub).toBe('alice');
    expect((await verifier.verify(newToken)).payload.sub).toBe('bob');

    await sb.ok(['retire', '--force', 'auth/jwt']);
    expect(await joseAccepts(file, oldToken, alg)).toBe(false);
    expect(await joseAccepts(file, newToken, alg)).toBe(true);
    await expect(verifier.verify(oldToken)).rejects.toThrow(/no applicable key|matching key/i);
    expect((await verifier.verify(newToken)).payload.sub).toBe('bob');

    const published = readFileSync(file, 'utf8');
    if (alg === 'HS256') {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await sb.ok(['plan'])).stdout).toMatch(/HS256 has no public half/);
    } else {
      expect(statSync(file).mode & 0o777).toBe(0o644);
      for (const k of (JSON.parse(published) as { keys: JWK[] }).keys) for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(m);
      // No private key material of any version anywhere in the published file.
      for (const v of [1, 2]) {
        const set = JSON.parse((await sb.ok(['get', 'auth/jwt', '--version', String(v)])).stdout) as JwtKeySet;
        for (const k of set.keys) expect(published).not.toContain(String(k.d));
      }
    }
  });
});

describe('jwt-keyset SDK verifier', () => {
  it('refreshes on an unknown kid at most once per cooldown, and accepts a key only while it is published', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: auth/jwt, type: jwt-keyset, algorithm: ES256, jwksFile: jwks.json, grace: 1h }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);
    let fetches = 0;
    const t0 = Date.now(); // the verifier's clock also decides exp and iat: keep it near real time
    let clock = t0;
    const source = jwksFile(sb.path('jwks.json'));
    const verifier = createTokenVerifier({ jwks: async () => (fetches++, source()), maxAgeMs: 60_000, unknownKidCooldownMs: 30_000, now: () => clock });
    let set = await keySet(sb, 'auth/jwt');
    const signer = createTokenSigner(() => set);
    await verifier.verify(await signer.sign({ n: 1 }, { expiresIn: '10m' }));
    expect(fetches).toBe(1);

    await sb.ok(['rotate', 'auth/jwt']);
    set = await keySet(sb, 'auth/jwt');
    const fresh = await signer.sign({ n: 2 }, { expiresIn: '10m' });
    clock = t0 + 1_000;
    await verifier.verify(fresh); // unknown kid → one refresh → found
    expect(fetches).toBe(2);

    // A flood of tokens with made-up kids: at most one refresh per second, and one per cooldown for a kid already looked for.
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'made-up' }).setExpirationTime('10m').sign((await generateKeyPair('ES256')).privateKey);
    clock = t0 + 1_500;
    for (let i = 0; i < 50; i++) await expect(verifier.verify(forged)).rejects.toThrow();
    expect(fetches).toBe(2); // within 1 s of the last refresh
    clock = t0 + 2_500;
    for (let i = 0; i < 50; i++) await expect(verifier.verify(forged)).rejects.toThrow();
    expect(fetches).toBe(3); // a kid not looked for yet: one refresh
    clock = t0 + 20_000;
    await expect(verifier.verify(forged)).rejects.toThrow();
    expect(fetches).toBe(3); // within 30 s of the refresh that looked for it
    clock = t0 + 40_000;
    await expect(verifier.verify(forged)).rejects.toThrow();
    expect(fetches).toBe(4);
  });
});

describe('jwt-keyset rollback', () => {
  it('a rolled-back rotation never publishes a retired key again', async () => {
    const sb = new Sandbox(`version: 1
consumers:
  api:
    health: [{ command: [sh, -c, 'test ! -e FAIL'], retries: 0 }]
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: ES256, jwksFile: public/jwks.json, grace: 1h, consumers: [api] }
`);
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);
    const v1 = await keySet(sb, 'auth/jwt');
    await sb.ok(['rotate', 'auth/jwt']);
    await sb.ok(['retire', '--force']);
    const oldToken = await createTokenSigner(() => v1).sign({ sub: 'x' }, { expiresIn: '10m' });
    expect(await joseAccepts(sb.path('public/jwks.json'), oldToken, 'ES256')).toBe(false);

    sb.write('FAIL', '');
    await sb.ok(['rotate', 'auth/jwt'], {}, 1);
    const published = JSON.parse(readFileSync(sb.path('public/jwks.json'), 'utf8')) as { keys: JWK[] };
    const current = await keySet(sb, 'auth/jwt');
    expect(published.keys.map((k) => k.kid)).toEqual([current.kid]);
    expect(await joseAccepts(sb.path('public/jwks.json'), oldToken, 'ES256')).toBe(false);
  });
});

describe('jwt-keyset published files', () => {
  it('keep their owner, group, mode and links: an HS256 key set its verifier (nobody) owns stays readable by it', async () => {
    const sb = new Sandbox(`version: 1
secrets:
  - { id: auth/hs, type: jwt-keyset, algorithm: HS256, keysetFile: keys/hs.json, grace: 1h }
  - { id: auth/es, type: jwt-keyset, algorithm: ES256, jwksFile: public/jwks.json, grace: 1h }
`);
    sandboxes.push(sb);
    mkdirSync(sb.path('keys'));
    mkdirSync(sb.path('public'));
    sb.write('keys/hs.json', '{"keys":[]}\n');
    chownSync(sb.path('keys/hs.json'), 65534, 65534);
    chmodSync(sb.path('keys/hs.json'), 0o640);
    sb.write('public/jwks-2026.json', '{"keys":[]}\n');
    chmodSync(sb.path('public/jwks-2026.json'), 0o640);
    symlinkSync('jwks-2026.json', sb.path('public/jwks.json'));
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/hs', 'auth/es']);

    const hs = statSync(sb.path('keys/hs.json'));
    expect([hs.uid, hs.gid, hs.mode & 0o777]).toEqual([65534, 65534, 0o640]);
    expect((JSON.parse(readFileSync(sb.path('keys/hs.json'), 'utf8')) as { keys: JWK[] }).keys).toHaveLength(1);
    expect(lstatSync(sb.path('public/jwks.json')).isSymbolicLink()).toBe(true);
    expect(statSync(sb.path('public/jwks-2026.json')).mode & 0o777).toBe(0o640);
    expect((JSON.parse(readFileSync(sb.path('public/jwks-2026.json'), 'utf8')) as { keys: JWK[] }).keys).toHaveLength(1);
  });
});
