/**
 * `jwt-keyset`: signing keys for JWTs, rotated so that no valid token is ever rejected.
 *
 * The published JWKS file is this type's target. Apply publishes the new public key
 * *before* promote makes it the signing key, so every verifier can check the first token
 * signed with it; the key it replaces stays published until retire, which must come after
 * the longest token lifetime (the secret's grace). Verify signs a token with the stored
 * key and checks it against the file as published. HS256 has no public half: nothing is
 * published, and the key set goes only to the services that verify.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { replaceFile } from '../../fs/safe-replace.js';
import { RotorError } from '../../errors.js';
import type { Rotator, RotatorDeps } from '../types.js';
import { newSigningKey, publicJwks } from './keys.js';
import type { JwtSpec, JwtValue, PrivateJwk } from './schema.js';

const PROBE_AUDIENCE = 'rotor-verify';

export function createJwtRotator(deps: RotatorDeps) {
  const named = (spec: JwtSpec) => spec.jwksFile ?? spec.keysetFile;
  const fileOf = (spec: JwtSpec) => (named(spec) === undefined ? undefined : resolve(deps.baseDir, named(spec)!));

  async function publish(spec: JwtSpec, keys: PrivateJwk[]): Promise<string> {
    const file = fileOf(spec);
    if (!file) return 'nothing to publish';
    // A new JWKS holds public keys only and is world-readable (verifiers and web servers read
    // it); a new HS256 key set holds shared secrets and is readable by its owner alone. An
    // existing file keeps its owner, group, mode and links: the verifier reading it may be
    // another user (fs/safe-replace.ts). No copy of the old one is kept.
    const symmetric = spec.algorithm === 'HS256';
    const body = symmetric ? { keys: keys.map(({ kid, kty, k, alg }) => ({ kid, kty, k, alg })) } : publicJwks(keys);
    await replaceFile(file, () => `${JSON.stringify(body, null, 2)}\n`, { newMode: symmetric ? 0o600 : 0o644 });
    return `published ${keys.length} key${keys.length === 1 ? '' : 's'} (${keys.map((k) => k.kid).join(', ')}) to ${named(spec)}`;
  }

  async function readPublished(spec: JwtSpec): Promise<{ keys: JWK[] }> {
    const file = fileOf(spec)!;
    try {
      return JSON.parse(await readFile(file, 'utf8')) as { keys: JWK[] };
    } catch (err) {
      throw new RotorError(`the published key set ${named(spec)} cannot be read: ${(err as Error).message}`, { outcome: 'rolled-back', cause: err });
    }
  }

  const signingKey = (value: JwtValue) => {
    const key = value.keys.find((k) => k.kid === value.kid);
    if (!key) throw new RotorError(`key set has no key ${value.kid}`, { outcome: 'needs-person' });
    return key;
  };

  async function probeToken(value: JwtValue, key: PrivateJwk): Promise<string> {
    return new SignJWT({ probe: true }).setProtectedHeader({ alg: value.alg, kid: key.kid }).setAudience(PROBE_AUDIENCE).setIssuedAt().setExpirationTime('1m')
      .sign(await importJWK(key, value.alg));
  }

  /** Does a verifier that trusts what is published (with no file: the key set itself) accept `token`? */
  async function accepted(spec: JwtSpec, token: string, value: JwtValue): Promise<boolean> {
    try {
      const keys = fileOf(spec) ? (await readPublished(spec)).keys : value.keys;
      if (spec.algorithm === 'HS256') {
        const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
        const key = keys.find((k) => k.kid === kid);
        if (!key) return false;
        await jwtVerify(token, await importJWK(key, 'HS256'), { audience: PROBE_AUDIENCE });
      } else {
        await jwtVerify(token, createLocalJWKSet({ keys: fileOf(spec) ? keys : publicJwks(value.keys).keys }), { audience: PROBE_AUDIENCE });
      }
      return true;
    } catch (err) {
      if (err instanceof RotorError) throw err;
      return false;
    }
  }

  return {
    async preflight({ spec }) {
      return { notes: spec.algorithm === 'HS256' ? ['HS256 has no public half: no JWKS is published; the key set goes only to keysetFile (0600) and the services that verify'] : [] };
    },

    async generate({ spec, current }) {
      const key = await newSigningKey(spec.algorithm, spec.rsaBits);
      // The key being replaced stays in the set so verifiers accept its tokens until retire.
      const keys = current && current.alg === spec.algorithm ? [key, signingKey(current)] : [key];
      return { value: { alg: spec.algorithm, kid: key.kid, keys } };
    },

    async apply({ spec, pending }) {
      return { detail: await publish(spec, pending.keys) };
    },

    async verify({ spec, value }) {
      const token = await probeToken(value, signingKey(value));
      if (!(await accepted(spec, token, value))) {
        throw new RotorError(`a token signed with the new key ${value.kid} does not verify against ${named(spec) ?? 'the key set'}`, { outcome: 'rolled-back' });
      }
      return { detail: `signed and verified a token with ${value.kid}${named(spec) ? ` against ${named(spec)}` : ''}` };
    },

    async undoApply({ spec, current }) {
      // The value that stays current still carries the key it once replaced; that key was
      // retired when this rotation began (a grace is cut short by the next rotation), so
      // only the current signing key is published again.
      return { detail: await publish(spec, current ? current.keys.filter((k) => k.kid === current.kid) : []) };
    },

    async retire({ spec, retiring, current }) {
      // After retire only the signing key of `current` is trusted: whatever else was
      // published (the retiring key, or keys published before Rotor) goes.
      const remaining = current.keys.filter((k) => k.kid === current.kid);
      const gone = retiring ? `tokens signed with ${retiring.kid} are no longer accepted` : 'only keys Rotor holds remain';
      return { detail: `${await publish(spec, remaining)}; ${gone}` };
    },

    async checkRejected({ spec, retired, current }) {
      if (!fileOf(spec)) return { rejected: true, detail: 'no published key set: services drop the old key with their next delivery' };
      if (!retired) {
        const others = (await readPublished(spec)).keys.map((k) => k.kid).filter((kid) => kid !== current.kid);
        return others.length ? { rejected: false, detail: `${named(spec)} still holds ${others.join(', ')}` } : { rejected: true, detail: `${named(spec)} holds only ${current.kid}` };
      }
      const token = await probeToken(retired, signingKey(retired));
      const stillAccepted = await accepted(spec, token, retired);
      return stillAccepted ? { rejected: false, detail: `${retired.kid} is still in ${named(spec)}` } : { rejected: true, detail: `a token signed with ${retired.kid} is refused` };
    },

    forConsumers({ value, live }) {
      // A key stays while it signs for a live version; the key a retired version signed with goes.
      return { ...value, keys: value.keys.filter((k) => k.kid === value.kid || live.some((v) => v.kid === k.kid)) };
    },

    async close() {},
  } satisfies Rotator<JwtSpec, JwtValue>;
}
