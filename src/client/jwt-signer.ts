/**
 * Signs tokens with whatever key the delivered key set names as signing key, so a service
 * picks up a rotation the moment its key set is reloaded (see `watchJsonFile`).
 */
import { importJWK, SignJWT, type JWK, type JWTPayload, type CryptoKey, type KeyObject } from 'jose';

/** A `jwt-keyset` value, as `rotor get` prints it and consumers receive it. */
export interface JwtKeySet {
  alg: 'HS256' | 'RS256' | 'ES256' | 'EdDSA';
  /** The signing key's id. */
  kid: string;
  keys: (JWK & { kid: string })[];
}

export interface SignOptions {
  /** Lifetime, e.g. '15m' or seconds. Keep it shorter than the secret's grace. */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string | string[];
  subject?: string;
}

export interface TokenSigner {
  sign(payload: JWTPayload, opts?: SignOptions): Promise<string>;
  /** The kid new tokens carry. */
  currentKid(): string;
}

/** `keySet` is called for every token: hand it a getter over your latest delivered key set. */
export function createTokenSigner(keySet: () => JwtKeySet): TokenSigner {
  const imported = new Map<string, Promise<CryptoKey | KeyObject | Uint8Array>>();
  return {
    currentKid: () => keySet().kid,
    async sign(payload, opts = {}) {
      const set = keySet();
      const jwk = set.keys.find((k) => k.kid === set.kid);
      if (!jwk) throw new Error(`key set has no signing key ${set.kid}`);
      let key = imported.get(jwk.kid);
      if (!key) imported.set(jwk.kid, (key = importJWK(jwk, set.alg)));
      let jwt = new SignJWT(payload).setProtectedHeader({ alg: set.alg, kid: set.kid, typ: 'JWT' }).setIssuedAt();
      if (opts.expiresIn !== undefined) jwt = jwt.setExpirationTime(typeof opts.expiresIn === 'number' ? `${opts.expiresIn}s` : opts.expiresIn);
      if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
      if (opts.audience) jwt = jwt.setAudience(opts.audience);
      if (opts.subject) jwt = jwt.setSubject(opts.subject);
      return jwt.sign(await key);
    },
  };
}
