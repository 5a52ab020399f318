/**
 * Rotations the daemon runs in the background (scheduled batches, API requests): how many,
 * so SIGTERM can wait for them, and the rotation id an API request returns as soon as the
 * engine has journaled it (`POST …/rotate` answers 202 without waiting for the rotation).
 */
import type { EngineEvent, RotationOutcome } from '../engine/context.js';

export class Runs {
  private readonly running = new Set<Promise<unknown>>();

  /** Tracks `work` until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const forget = () => this.running.delete(work);
    work.then(forget, forget);
    return work;
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when everything tracked has settled, or after `timeoutMs`: true when all settled. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.running]),
        new Promise((r) => {
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }
}

/**
 * Watches one secret's rotation in a batch: resolves with its rotation id once the engine
 * has journaled the rotation (its first step started), or with the outcome when it ended
 * before one existed (busy, refused, not started).
 */
export function firstSight(secretId: string): { onEvent: (e: EngineEvent) => void; seen: Promise<{ rotationId: string } | { outcome: RotationOutcome }> } {
  let settle!: (v: { rotationId: string } | { outcome: RotationOutcome }) => void;
  const seen = new Promise<{ rotationId: string } | { outcome: RotationOutcome }>((r) => {
    settle = r;
  });
  let done = false;
  return {
    seen,
    onEvent: (e) => {
      if (done || e.secretId !== secretId) return;
      // A secret whose last rotation is still in grace has that rotation retired first (its
      // `retire` step, under the old rotation's id): that is not the rotation started here.
      if (e.kind === 'step' && e.step !== 'retire') {
        done = true;
        settle({ rotationId: e.rotationId });
      } else if (e.kind === 'finished') {
        done = true;
        // Ended before a step of its own: busy, refused, not started. A rotationId it carries
        // is the rotation that holds the secret, not one started here.
        settle({ outcome: e.outcome });
      }
    },
  };
}
