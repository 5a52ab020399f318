/**
 * Every path a rotation lock takes, in one file. A secret is locked (state store `locks`)
 * for as long as one process acts on it; the lease and stale-holder rules live in the state
 * driver. Here are the only ways the engine takes and gives them back:
 *
 * - {@link takeForBatch}: a batch (engine/batch.ts) takes all its secrets in one transaction;
 *   the ones held elsewhere come back as `busy`.
 * - {@link takeOne}: a single secret outside a batch (`rotor adopt`). A grace cut short by a
 *   new rotation ends without giving the lock back (journal.ts `finish` with `keepLock`).
 * - {@link releaseInCommit}: the mutation that gives the lock back in the same transaction
 *   as the record that ends the process's part of a rotation (grace, finished, rolled back,
 *   interrupted) — so no other process can start between the record and the release.
 * - {@link releaseUnstarted}: nothing was recorded (refused, skipped, busy, interrupted
 *   before start, an error outside the steps): released on its own.
 *
 * @example
 * const { busy } = await takeForBatch(deps, ['db/app']);
 * await deps.state.commit([...records, releaseInCommit(deps, 'db/app')]);
 */
import type { LockRow, Mutation } from '../state/types.js';
import type { EngineDeps } from './context.js';

type LockDeps = Pick<EngineDeps, 'state' | 'owner'>;

/** Takes the locks of `secretIds` at once; `busy` holds those another process has. */
export function takeForBatch(deps: LockDeps, secretIds: string[]): Promise<{ busy: Map<string, LockRow> }> {
  return deps.state.acquireLocks(secretIds, deps.owner);
}

/** Takes one secret's lock; false when another process holds it. */
export async function takeOne(deps: LockDeps, secretId: string): Promise<boolean> {
  const { busy } = await deps.state.acquireLocks([secretId], deps.owner);
  return busy.size === 0;
}

/** The mutation that releases the lock with the commit that ends this process's part. */
export function releaseInCommit(deps: LockDeps, secretId: string): Mutation {
  return { kind: 'lock.release', secretId, ownerId: deps.owner.id };
}

/**
 * Releases a lock when nothing was started. `quiet` swallows a failure: used on error
 * paths, where the error being reported matters more and the lease expires anyway.
 */
export async function releaseUnstarted(deps: LockDeps, secretId: string, opts: { quiet?: boolean } = {}): Promise<void> {
  const release = deps.state.releaseLocks([secretId], deps.owner);
  if (opts.quiet) await release.catch(() => {});
  else await release;
}
