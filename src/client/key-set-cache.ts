/**
 * The verifier's copy of the key set and when to fetch it again. The policy, in one place:
 *
 * - **Age.** A set older than `maxAgeMs` is refetched before it is used, so a key that retire
 *   removed stops verifying within that time.
 * - **Outage.** While refreshes fail (an error, an HTTP 503, an empty or half-written file, a
 *   fetch that outlives `fetchTimeoutMs`), the last good set keeps serving — for at most
 *   `maxStaleMs` past its age. After that every token is refused with `KeySetUnavailableError`
 *   (fail closed: an outage must not keep a removed key alive for ever).
 * - **Backoff.** After a failed refresh the next one waits `minRefreshIntervalMs`, doubling
 *   with each further failure up to `maxBackoffMs` (with jitter, so a fleet does not retry in
 *   step). Tokens verified meanwhile use the last good set without waiting.
 * - **Unknown kid.** A kid not seen before refreshes the set if the last refresh began at
 *   least `minRefreshIntervalMs` ago, so a key published a moment ago is found within about a
 *   second; a kid that a refresh has already failed to find waits `unknownKidCooldownMs`.
 *   However many made-up kids arrive, refreshes stay at most one per `minRefreshIntervalMs`.
 */
import { errors } from 'jose';
import type { JwksDocument, JwksSource } from './jwks-source.js';
import { importKeySet, type SkippedKey, type VerificationKey } from './jwks-import.js';

export interface KeySetPolicy {
  maxAgeMs: number;
  maxStaleMs: number;
  fetchTimeoutMs: number;
  minRefreshIntervalMs: number;
  maxBackoffMs: number;
  unknownKidCooldownMs: number;
}

export interface KeySetCacheDeps extends KeySetPolicy {
  jwks: JwksSource;
  algorithms?: readonly string[];
  now: () => number;
  /** 0 ≤ x < 1; the backoff's jitter (default Math.random). */
  random?: () => number;
}

/** What the verifier knows about its key set; for metrics and health checks. */
export interface KeySetStats {
  /** The kids that verify now. */
  kids: string[];
  /** Keys of the set in use that are skipped, and why (cannot be imported, no kid, not a signing key…). A fetched set with no usable key at all is a failed refresh: see `lastError`. */
  skipped: SkippedKey[];
  /** When the set in use was fetched (the verifier's clock, ms); undefined before the first success. */
  loadedAt: number | undefined;
  refreshes: number;
  failedRefreshes: number;
  /** Failures since the last good fetch; 0 when the set is current. */
  consecutiveFailures: number;
  /** Why the last refresh failed, while it is failing. */
  lastError: string | undefined;
}

/**
 * Tokens are refused because there is no key set recent enough to trust: never fetched, or
 * every refresh has failed for longer than `maxStaleMs`. `cause` is the last fetch error.
 * A server problem, not a bad token: answer 503, not 401.
 */
export class KeySetUnavailableError extends Error {
  override readonly name = 'KeySetUnavailableError';
  readonly code = 'ERR_ROTOR_KEY_SET_UNAVAILABLE';
}

const MAX_REMEMBERED_KIDS = 1024;

export interface KeySetCache {
  /** The key for `kid` if the set is within `maxAgeMs` (no I/O), else undefined. */
  fresh(kid: string): VerificationKey | undefined;
  /** The key for `kid`, refreshing as the policy allows. */
  resolve(kid: string): Promise<VerificationKey>;
  /** Fetch now, whatever the backoff; rejects when the fetch fails. */
  refresh(): Promise<void>;
  stats(): KeySetStats;
}

export function createKeySetCache(deps: KeySetCacheDeps): KeySetCache {
  const { now, maxAgeMs, maxStaleMs, minRefreshIntervalMs, unknownKidCooldownMs } = deps;
  const random = deps.random ?? Math.random;
  let keys = new Map<string, VerificationKey>();
  let skipped: SkippedKey[] = [];
  let loadedAt: number | undefined;
  let lastAttemptAt = -Infinity;
  let retryAt = -Infinity;
  let failures = 0;
  let lastError: unknown;
  let refreshes = 0;
  let failedRefreshes = 0;
  let inflight: Promise<void> | undefined;
  /** Unknown kids a refresh has already looked for, and when (oldest first). */
  const triedKids = new Map<string, number>();

  const load = async (): Promise<void> => {
    lastAttemptAt = now();
    refreshes++;
    try {
      const doc = await withTimeout(deps.jwks, deps.fetchTimeoutMs);
      const next = await importKeySet(doc, keys, deps.algorithms);
      if (next.keys.size === 0) throw new Error(`the key set has no usable key (${next.skipped.length} skipped: ${next.skipped.map((s) => `${s.kid ?? '?'}: ${s.reason}`).join('; ') || 'empty'})`);
      keys = next.keys;
      skipped = next.skipped;
      loadedAt = now();
      failures = 0;
      retryAt = -Infinity;
      lastError = undefined;
    } catch (err) {
      failures++;
      failedRefreshes++;
      lastError = err;
      const backoff = Math.min(deps.maxBackoffMs, minRefreshIntervalMs * 2 ** (failures - 1));
      retryAt = now() + backoff * (0.5 + random() / 2);
      throw err;
    }
  };

  const refresh = (): Promise<void> =>
    (inflight ??= load().finally(() => {
      inflight = undefined;
    }));

  /** Waits for a refresh if one is running or allowed; never throws (the caller decides). */
  const refreshIfAllowed = async (allowed: boolean): Promise<void> => {
    if (inflight) await inflight.catch(() => {});
    else if (allowed) await refresh().catch(() => {});
  };

  const mayRefreshFor = (kid: string, t: number): boolean => {
    if (t < retryAt || t - lastAttemptAt < minRefreshIntervalMs) return false;
    const tried = triedKids.get(kid);
    if (tried !== undefined && t - tried < unknownKidCooldownMs) return false;
    triedKids.delete(kid);
    triedKids.set(kid, t);
    if (triedKids.size > MAX_REMEMBERED_KIDS) triedKids.delete(triedKids.keys().next().value!);
    return true;
  };

  const usable = (): void => {
    const t = now();
    if (loadedAt !== undefined && t - loadedAt <= maxAgeMs + maxStaleMs) return;
    const why = lastError instanceof Error ? lastError.message : String(lastError ?? 'no fetch has succeeded yet');
    const message = loadedAt === undefined
      ? `no key set yet: ${why}`
      : `the key set is ${Math.round((t - loadedAt) / 1000)} s old and every refresh since has failed (${why}); tokens are refused until it can be fetched (maxAgeMs + maxStaleMs = ${Math.round((maxAgeMs + maxStaleMs) / 1000)} s)`;
    throw new KeySetUnavailableError(message, { cause: lastError });
  };

  return {
    fresh: (kid) => (loadedAt !== undefined && now() - loadedAt <= maxAgeMs ? keys.get(kid) : undefined),
    async resolve(kid) {
      if (loadedAt === undefined || now() - loadedAt > maxAgeMs) await refreshIfAllowed(now() >= retryAt);
      if (!keys.has(kid)) await refreshIfAllowed(mayRefreshFor(kid, now()));
      usable();
      const found = keys.get(kid);
      if (!found) throw new errors.JWKSNoMatchingKey();
      return found;
    },
    refresh,
    stats: () => ({
      kids: [...keys.keys()],
      skipped: [...skipped],
      loadedAt,
      refreshes,
      failedRefreshes,
      consecutiveFailures: failures,
      lastError: lastError === undefined ? undefined : lastError instanceof Error ? lastError.message : String(lastError),
    }),
  };
}

/** The source's answer, or an error once `ms` have passed (the source's signal is aborted then). */
async function withTimeout(source: JwksSource, ms: number): Promise<JwksDocument> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`fetching the key set took longer than ${ms} ms (fetchTimeoutMs)`);
      controller.abort(err);
      reject(err);
    }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve(source({ signal: controller.signal })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
