/**
 * Verifies tokens against a published key set, looked up by `kid`. When the set is fetched
 * again, what an outage does and how unknown kids are handled: see `key-set-cache.ts`; which
 * keys of a set are used: see `jwks-import.ts`.
 *
 * Time checks use the verifier's clock (`now`): `exp` is required (`requireExp: false` to
 * accept tokens that never expire), `exp`, `nbf` and `iat` are each allowed `clockToleranceMs`
 * of skew, and a token issued further in the future than that is refused.
 *
 * @example
 *   const verifier = createTokenVerifier({ jwks: jwksUrl('https://idp.example/.well-known/jwks.json'), issuer: 'https://idp.example/' });
 *   const { payload } = await verifier.verify(token);
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTHeaderParameters, type JWTVerifyResult } from 'jose';
import { createKeySetCache, type KeySetStats } from './key-set-cache.js';
import type { JwksSource } from './jwks-source.js';

export interface VerifierOptions {
  /** Where the key set comes from: `jwksFile(path)`, `jwksUrl(url)`, or your own. */
  jwks: JwksSource;
  /** Refetch the set this often even when every kid is known (default 60 s). */
  maxAgeMs?: number;
  /**
   * While refreshes fail, keep using the last good set for this long past `maxAgeMs`
   * (default 10 min); then refuse every token with `KeySetUnavailableError`.
   */
  maxStaleMs?: number;
  /** Give up on a fetch after this long (default 5 s); it counts as a failed refresh. */
  fetchTimeoutMs?: number;
  /** Least time between two refreshes, and the first backoff after a failure (default 1 s). */
  minRefreshIntervalMs?: number;
  /** The longest backoff between failed refreshes (default 30 s). */
  maxBackoffMs?: number;
  /** Least time before an unknown kid that a refresh did not find may cause another one (default 30 s). */
  unknownKidCooldownMs?: number;
  issuer?: string;
  audience?: string | string[];
  /**
   * Accepted algorithms (default: the alg each published key declares or its type implies).
   * Keys for other algorithms are skipped; list HS256 to accept shared-secret keys without `alg`.
   */
  algorithms?: string[];
  /** Skew allowed on `exp`, `nbf` and `iat` (default 30 s). */
  clockToleranceMs?: number;
  /** Refuse tokens without `exp` (default true). */
  requireExp?: boolean;
  /** The verifier's clock, ms since the epoch (default Date.now): token times and the set's age. */
  now?: () => number;
}

export interface TokenVerifier {
  /** The verified token; rejects with a jose error for a bad token, `KeySetUnavailableError` when no set can be trusted. */
  verify(token: string): Promise<JWTVerifyResult>;
  /** Fetch the key set now (ignores the backoff); rejects when the fetch fails. */
  refresh(): Promise<void>;
  /** The kids in use, the keys skipped and why, refresh counts and the last error. */
  stats(): KeySetStats;
}

export function createTokenVerifier(opts: VerifierOptions): TokenVerifier {
  const now = opts.now ?? Date.now;
  const toleranceS = (opts.clockToleranceMs ?? 30_000) / 1000;
  const cache = createKeySetCache({
    jwks: opts.jwks,
    algorithms: opts.algorithms,
    now,
    maxAgeMs: opts.maxAgeMs ?? 60_000,
    maxStaleMs: opts.maxStaleMs ?? 600_000,
    fetchTimeoutMs: opts.fetchTimeoutMs ?? 5_000,
    minRefreshIntervalMs: opts.minRefreshIntervalMs ?? 1_000,
    maxBackoffMs: opts.maxBackoffMs ?? 30_000,
    unknownKidCooldownMs: opts.unknownKidCooldownMs ?? 30_000,
  });
  const claimChecks = { issuer: opts.issuer, audience: opts.audience, algorithms: opts.algorithms, clockTolerance: toleranceS, requiredClaims: opts.requireExp === false ? [] : ['exp'] };

  /**
   * The key is found here and handed to jose directly: jose's own key-resolver path costs
   * about 6% per token, which the benchmark against a bare single-key jwtVerify shows.
   */
  const verify = async (token: string): Promise<JWTVerifyResult> => {
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
    } catch {
      throw new errors.JWSInvalid('token header is not valid');
    }
    const kid = typeof header.kid === 'string' ? header.kid : '';
    const found = cache.fresh(kid) ?? (await cache.resolve(kid));
    if (header.alg !== found.alg) throw new errors.JOSEAlgNotAllowed(`"alg" ${header.alg} is not the key's ${found.alg}`);
    const t = now();
    const result = await jwtVerify(token, found.key, { ...claimChecks, currentDate: new Date(t) });
    const { iat } = result.payload;
    // jose checks iat only against maxTokenAge; a token from the future is refused here.
    if (iat !== undefined && iat > t / 1000 + toleranceS) throw new errors.JWTClaimValidationFailed('"iat" claim timestamp check failed (issued in the future)', result.payload, 'iat', 'check_failed');
    return result;
  };

  return { verify, refresh: cache.refresh, stats: cache.stats };
}
