/**
 * retire, the sixth step: revoke the previous value at the target, give consumers that
 * held it a copy without it, and prove the target now rejects it. A failed retire leaves
 * the rotation in grace (the new value is live and works), with an error and a hint: the
 * old value still working is a security problem, not a broken service.
 */
import { health } from '../consumers/actions.js';
import { rechecksBeforeRetire } from '../consumers/health/registry.js';
import { describeError, RotorError } from '../errors.js';
import type { EngineDeps, RotationOutcome } from './context.js';
import { commit, finish, runStep } from './journal.js';
import { mirrorStages } from './stage-mirror.js';
import { releaseInCommit } from './locks.js';
import { deliverable, holdsRetiring, outcomeOf, reported, requestOf, valueOf, type Run } from './run.js';

export interface RetireOptions {
  /** A new rotation ends this grace early; its own propagate delivers right after. */
  cutShort: boolean;
  /** `rotor retire --force`: overrides what a rotator would hold the retire for. */
  force?: boolean;
}

export async function retireRun(deps: EngineDeps, run: Run, opts: RetireOptions): Promise<RotationOutcome> {
  const from = run.rotation.fromVersion;
  // Read before the step's "started" record sets it.
  const retried = run.rotation.step === 'retire';
  try {
    await runStep(deps, run, 'retire', () => retireStep(deps, run, opts, retried));
  } catch (err) {
    const error = deps.redactor.redact(describeError(err));
    await commit(deps, run, [
      { kind: 'rotation.update', id: run.rotation.id, set: { status: 'grace', error } },
      releaseInCommit(deps, run.secret.id),
    ]);
    return {
      ...outcomeOf(run, 'failed'), step: 'retire', error,
      hint: `${from === null ? 'a credential from before Rotor may still work at the target' : `v${from} still works at the target`}; ${err instanceof RotorError && err.hint ? err.hint : `fix the cause, then run \`rotor retire --force ${run.secret.id}\``}`,
    };
  }
  await finish(deps, run, 'succeeded', 'rotation.succeeded', null, { keepLock: opts.cutShort });
  return outcomeOf(run, 'succeeded');
}

async function retireStep(deps: EngineDeps, run: Run, opts: RetireOptions, retried: boolean): Promise<string> {
  const from = run.rotation.fromVersion;
  // On a first rotation there is no stored previous, but the target may still accept a
  // credential from before Rotor: the rotator revokes whatever Rotor does not hold.
  const retiring = from === null ? undefined : await valueOf(deps, run, from);
  const current = await valueOf(deps, run, run.rotation.toVersion);
  const base = requestOf(deps, run);
  const rechecked = opts.cutShort || opts.force ? undefined : await recheckBeforeRetire(deps, run);
  const done = await run.rotator.retire({ ...base, retiring, current, emergency: run.rotation.trigger === 'emergency', force: opts.force ?? false });
  const refreshed = await refreshConsumers(deps, run, opts, retried);
  const check = await run.rotator.checkRejected({ ...base, retired: retiring, current });
  if (!check.rejected) {
    const what = from === null ? 'a credential Rotor does not hold' : `v${from}`;
    throw new Error(`the target still accepts ${what} after retire${check.detail ? `: ${check.detail}` : ''}`);
  }
  // Bookkeeping of what the target already did: it rides with the next commit. The
  // store's labels leave the retired version now, before a crash could keep them there.
  if (from !== null) {
    run.deferred.push({ kind: 'version.stage', secretId: run.secret.id, version: from, stage: 'retired', at: deps.now() });
    run.warnings.push(...(await mirrorStages(deps, run.secret, run.access.store, (live) => live.filter((v) => v.version !== from))));
  }
  return [rechecked, reported(run, done), refreshed, check.detail, opts.cutShort ? 'grace cut short by a new rotation' : undefined].filter(Boolean).join('; ');
}

/**
 * Consumers' copies of a key set lose the retired key too. A grace cut short by a new
 * rotation skips this: that rotation's propagate delivers right after. A retried retire
 * reloads even unchanged files: its first attempt may have written them and failed before
 * the reload.
 */
async function refreshConsumers(deps: EngineDeps, run: Run, opts: RetireOptions, retried: boolean): Promise<string | undefined> {
  if (!run.secret.consumers.length || !holdsRetiring(deps, run) || opts.cutShort) return undefined;
  const value = await deliverable(deps, run, run.rotation.toVersion, [run.rotation.fromVersion]);
  const handover = { value, version: run.rotation.toVersion, previous: null };
  return `consumers: ${await run.propagation.refresh(run.secret, handover, { always: retried })}`;
}

/**
 * Health steps that watch the consumers' own signals (a Prometheus query over their error
 * rates) run again before the previous value is revoked: a downstream service that never
 * picked up the new value shows up there, and retiring would break it. A failure holds the
 * retire — the previous value stays valid — for a person to look.
 */
async function recheckBeforeRetire(deps: EngineDeps, run: Run): Promise<string | undefined> {
  const checks = run.secret.consumers.flatMap((name) => (deps.config.consumers[name]?.health ?? []).filter(rechecksBeforeRetire).map((step) => ({ name, step })));
  if (!checks.length) return undefined;
  const input = { stdin: '', env: {}, redact: (text: string) => deps.redactor.redact(text) };
  const lines: string[] = [];
  for (const { name, step } of checks) {
    try {
      lines.push(await health(deps.config, name, step, input));
    } catch (err) {
      throw new RotorError(`before retire: ${describeError(err)}`, {
        outcome: 'needs-person',
        hint: `the previous value stays valid; find what still fails, then \`rotor retire ${run.secret.id}\`, or go back with \`rotor rollback ${run.secret.id}\``,
      });
    }
  }
  return `before retire: ${lines.join('; ')}`;
}
