/**
 * Who may call what: a bearer token (app/tokens.ts) of a role at least the route's.
 * Failed authentications are counted per client address; past the limit the address is
 * refused (429) before its token is even looked at, so guessing is slow. The table of
 * addresses is bounded: a flood of addresses only forgets the oldest.
 */
import { authenticate, ROLE_RANK } from '../app/tokens.js';
import type { Role, StateStore, TokenRow } from '../state/types.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly kind: string, readonly hint?: string) {
    super(message);
  }
}

const WINDOW_MS = 60_000;
const MAX_FAILURES = 20;
const MAX_ADDRESSES = 10_000;

export class FailureLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly opts: { max?: number; windowMs?: number } = {}) {}

  blocked(addr: string, now: number): boolean {
    const f = this.failures.get(addr);
    if (!f) return false;
    if (now - f.since > (this.opts.windowMs ?? WINDOW_MS)) {
      this.failures.delete(addr);
      return false;
    }
    return f.count >= (this.opts.max ?? MAX_FAILURES);
  }

  failed(addr: string, now: number): void {
    const f = this.failures.get(addr);
    if (f && now - f.since <= (this.opts.windowMs ?? WINDOW_MS)) f.count++;
    else {
      this.failures.delete(addr);
      if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(addr, { count: 1, since: now });
    }
  }
}

/** The token of a request, or an HttpError (401, 403, 429) saying why not. */
export async function authorize(state: StateStore, limiter: FailureLimiter, req: { addr: string; header: string | undefined }, need: Role): Promise<TokenRow> {
  const now = Date.now();
  if (limiter.blocked(req.addr, now)) {
    throw new HttpError(429, 'too many failed authentications from this address', 'RateLimited', 'wait a minute, then use a valid token');
  }
  const m = /^Bearer ([^\s]+)$/.exec(req.header ?? '');
  if (!m) {
    limiter.failed(req.addr, now);
    throw new HttpError(401, 'a bearer token is required', 'Unauthorized', 'send `Authorization: Bearer <token>`; make one with `rotor token create --role viewer --name <who>`');
  }
  const token = await authenticate(state, m[1]!);
  if (!token) {
    limiter.failed(req.addr, now);
    throw new HttpError(401, 'the token is not valid (unknown, malformed or revoked)', 'Unauthorized', 'see `rotor token list`; make a new one with `rotor token create`');
  }
  if (ROLE_RANK[token.role] < ROLE_RANK[need]) {
    throw new HttpError(403, `this needs the ${need} role; token "${token.name}" is ${token.role}`, 'Forbidden', `use a token with the ${need} role`);
  }
  return token;
}
