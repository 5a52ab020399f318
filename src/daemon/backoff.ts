/**
 * Per-secret retry after a failed scheduled rotation: exponential from `initialMs`, capped
 * at `maxMs`, with a little jitter so secrets that failed together do not retry in lockstep.
 * A success forgets the secret. Only secrets that failed are held, so it stays small.
 */
export class Backoff {
  private readonly failures = new Map<string, { count: number; retryAt: number }>();

  constructor(private readonly opts: { initialMs: number; maxMs: number; random?: () => number }) {}

  /** Records a failure at `now`; returns when the secret may be tried again. */
  failed(secretId: string, now: number): number {
    const count = (this.failures.get(secretId)?.count ?? 0) + 1;
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(count - 1, 30));
    const jitter = base * 0.1 * (this.opts.random ?? Math.random)();
    const retryAt = now + Math.min(this.opts.maxMs, base + jitter);
    this.failures.set(secretId, { count, retryAt });
    return retryAt;
  }

  /** The same failures under new options (after SIGHUP): a reload is no reason to retry early. */
  reconfigured(opts: { initialMs: number; maxMs: number; random?: () => number }): Backoff {
    const next = new Backoff(opts);
    for (const [id, f] of this.failures) next.failures.set(id, { ...f });
    return next;
  }

  succeeded(secretId: string): void {
    this.failures.delete(secretId);
  }

  /** Whether the secret is waiting out a backoff at `now`. */
  waiting(secretId: string, now: number): boolean {
    const f = this.failures.get(secretId);
    return f !== undefined && f.retryAt > now;
  }

  /** Consecutive failures so far (0 after a success). */
  attempts(secretId: string): number {
    return this.failures.get(secretId)?.count ?? 0;
  }

  /** Forgets secrets no longer configured (after SIGHUP). */
  keepOnly(ids: Set<string>): void {
    for (const id of this.failures.keys()) if (!ids.has(id)) this.failures.delete(id);
  }
}
