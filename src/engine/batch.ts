/**
 * Runs one action over many secrets: takes their locks in one transaction, runs with a
 * concurrency limit in planner order, waits for a secret's `after` dependencies, skips a
 * secret whose dependency did not succeed, and lets secrets that share a consumer reload it
 * once (engine/propagation.ts).
 */
import { hostname } from 'node:os';
import type { SecretConfig } from '../config/schema.js';
import { describeError, RotorError } from '../errors.js';
import type { EngineDeps, RotationOutcome } from './context.js';
import { releaseUnstarted, takeForBatch } from './locks.js';
import { orderSecrets } from './planner.js';
import { BatchPropagation, type Propagation } from './propagation.js';
import { Slots } from './slots.js';

export interface BatchOptions {
  concurrency: number;
}

export async function runBatch(
  deps: EngineDeps, secrets: SecretConfig[], opts: BatchOptions,
  action: (secret: SecretConfig, propagation: Propagation) => Promise<RotationOutcome>,
): Promise<RotationOutcome[]> {
  const ordered = orderSecrets(secrets);
  const { busy } = await takeForBatch(deps, ordered.map((s) => s.id));
  const slots = new Slots(opts.concurrency);
  const propagation = new BatchPropagation(deps.config, ordered, slots, deps.deliveryBackups);
  const done = new Map<string, Promise<RotationOutcome>>();
  const results: RotationOutcome[] = [];

  const runOne = async (secret: SecretConfig): Promise<RotationOutcome> => {
    const lock = busy.get(secret.id);
    if (lock) {
      return {
        secretId: secret.id, status: 'busy',
        error: `locked by pid ${lock.pid} on ${lock.host === hostname() ? 'this host' : lock.host} since ${new Date(lock.acquiredAt).toISOString()} (lease until ${new Date(lock.expiresAt).toISOString()})`,
        hint: 'wait for that rotation to finish; if its process died, the lease expires by itself and `rotor resume` takes over',
      };
    }
    for (const dep of secret.after) {
      const pending = done.get(dep);
      const depOutcome = pending && (await pending);
      if (depOutcome && depOutcome.status !== 'succeeded' && depOutcome.status !== 'grace') {
        await releaseUnstarted(deps, secret.id);
        return { secretId: secret.id, status: 'skipped', error: `skipped: ${dep} (in \`after\`) did not succeed` };
      }
    }
    await slots.acquire();
    try {
      return await action(secret, propagation);
    } catch (err) {
      // An error outside the steps (a store that cannot be read, say): nothing was acted on.
      await releaseUnstarted(deps, secret.id, { quiet: true });
      return {
        secretId: secret.id, status: 'failed', error: deps.redactor.redact(describeError(err)),
        hint: err instanceof RotorError ? err.hint : undefined,
      };
    } finally {
      slots.release();
    }
  };

  // Every secret starts at once and queues for a slot in planner order; one whose
  // dependencies are still running waits for them without holding a slot.
  for (const secret of ordered) {
    done.set(secret.id, runOne(secret).then((outcome) => {
      propagation.leave(secret.id);
      results.push(outcome);
      deps.onEvent?.({ kind: 'finished', secretId: secret.id, outcome });
      return outcome;
    }));
  }
  await Promise.all(done.values());
  return results;
}
