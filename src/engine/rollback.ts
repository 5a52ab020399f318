/**
 * Rollback after a failed step (or on request, `rotor rollback`), in the reverse order of
 * the steps: put the previous value back as current, give consumers that had the new
 * value the previous one (healthy on it) before the new value is withdrawn from the
 * target, then undo apply. Every part is idempotent, so `rotor resume` finishes a rollback
 * a crash interrupted by running it again.
 */
import { describeError, TargetUnreachableError } from '../errors.js';
import type { Step } from '../state/types.js';
import type { EngineDeps, RotationOutcome } from './context.js';
import { audit, commit, finish } from './journal.js';
import { releaseInCommit } from './locks.js';
import { deliverable, holdsRetiring, outcomeOf, requestOf, valueOf, type Run } from './run.js';

export interface RollbackOptions {
  /** The failure was already recorded (its step's `failed` record). */
  recorded: boolean;
  /** A person asked for it (`rotor rollback`): no error is recorded, the outcome is not a failure. */
  requested?: boolean;
  hint?: string;
}

export async function rollback(deps: EngineDeps, run: Run, failedStep: Step, error: string, opts: RollbackOptions): Promise<RotationOutcome> {
  const { secret, rotation } = run;
  // This run will not reach propagate: its forward round must not wait for it.
  run.propagation.skipForward(secret.id);
  const safeError = deps.redactor.redact(error);
  await commit(deps, run, [
    { kind: 'rotation.update', id: rotation.id, set: { status: 'rolling-back', error: opts.requested ? null : safeError } },
    { kind: 'step', row: { rotationId: rotation.id, step: 'rollback', phase: 'started', at: deps.now(), detail: safeError } },
  ]);
  deps.onEvent?.({ kind: 'rollback', secretId: secret.id, phase: 'started' });
  deps.crash('rollback', 'before');
  let doneDetail: string | null;
  try {
    doneDetail = await undo(deps, run, failedStep, opts);
    deps.crash('rollback', 'after');
  } catch (err) {
    const undoError = deps.redactor.redact(describeError(err));
    await commit(deps, run, [
      { kind: 'step', row: { rotationId: rotation.id, step: 'rollback', phase: 'failed', at: deps.now(), detail: undoError } },
      { kind: 'rotation.update', id: rotation.id, set: { error: `${safeError}; rollback failed: ${undoError}` } },
      releaseInCommit(deps, secret.id),
      audit(deps, rotation, 'rotation.rollback', 'failed', undoError),
    ]);
    deps.onEvent?.({ kind: 'rollback', secretId: secret.id, phase: 'failed' });
    return {
      ...outcomeOf(run, 'failed'), step: failedStep, error: `${safeError}; rollback failed: ${undoError}`,
      hint: 'fix what the rollback error names, then run `rotor resume` to finish the rollback',
    };
  }
  await commit(deps, run, [
    { kind: 'step', row: { rotationId: rotation.id, step: 'rollback', phase: 'done', at: deps.now(), detail: doneDetail } },
  ]);
  deps.onEvent?.({ kind: 'rollback', secretId: secret.id, phase: 'done' });
  await finish(deps, run, 'rolled-back', 'rotation.rolled-back', opts.requested ? 'rolled back on request' : safeError);
  return opts.requested
    ? { ...outcomeOf(run, 'rolled-back'), requested: true }
    : { ...outcomeOf(run, 'rolled-back'), step: failedStep, error: safeError, ...(opts.hint ? { hint: deps.redactor.redact(opts.hint) } : {}) };
}

/** The undo itself; returns the rollback record's detail. */
async function undo(deps: EngineDeps, run: Run, failedStep: Step, opts: RollbackOptions): Promise<string | null> {
  const { secret, rotation } = run;
  const created = await deps.state.version(secret.id, rotation.toVersion);
  const now = deps.now();
  if (created?.stage === 'current' && rotation.fromVersion !== null) {
    await commit(deps, run, [
      { kind: 'version.stage', secretId: secret.id, version: rotation.fromVersion, stage: 'current', at: now },
      { kind: 'version.stage', secretId: secret.id, version: rotation.toVersion, stage: 'pending', at: now },
    ]);
  }
  const detail = await restoreConsumers(deps, run, failedStep, opts);
  if (created && failedStep !== 'create') {
    const pending = await valueOf(deps, run, rotation.toVersion);
    const current = rotation.fromVersion === null ? undefined : await valueOf(deps, run, rotation.fromVersion);
    await retryWhileUnreachable(() => run.rotator.undoApply({ ...requestOf(deps, run), pending, current }), deps.undoRetryMs);
  }
  if (created) await commit(deps, run, [{ kind: 'version.stage', secretId: secret.id, version: rotation.toVersion, stage: 'failed', at: now }]);
  return detail;
}

/**
 * Consumers that were given the new value get the previous one back, and must be healthy
 * on it, before the new value is withdrawn from the target. A rollback that resumes after
 * a retire was tried (`rotor rollback` during a failed retire's grace) was live too: its
 * consumers hold the new value. A rollback that re-delivers nothing leaves its restore
 * round (skipRestore), so the batch's other members do not wait for it.
 */
async function restoreConsumers(deps: EngineDeps, run: Run, failedStep: Step, opts: RollbackOptions): Promise<string | null> {
  const { secret, rotation } = run;
  const delivered = failedStep === 'propagate' || failedStep === 'retire' || opts.requested;
  if (delivered && secret.consumers.length && rotation.fromVersion !== null) {
    // What stays in grace after the rollback: a `previous` version other than the withdrawn one.
    const inGrace = (await deps.state.liveVersions(secret.id)).find((v) => v.stage === 'previous' && v.version !== rotation.toVersion);
    const previous = inGrace ? await deliverable(deps, run, inGrace.version, [rotation.toVersion]) : null;
    const value = await deliverable(deps, run, rotation.fromVersion);
    const restored = await run.propagation.restore(secret, { value, version: rotation.fromVersion, previous });
    return deps.redactor.redact(`re-delivered v${rotation.fromVersion}: ${restored}`);
  }
  run.propagation.skipRestore(secret.id);
  if (delivered && secret.consumers.length && rotation.fromVersion === null) {
    // A first rotation has no earlier version to give back: what the consumers held before
    // Rotor is not Rotor's to restore (file targets keep sealed copies: `rotor backup files`).
    run.warnings.push(`${secret.id}'s consumers keep v${rotation.toVersion}, which this first rotation delivered and then withdrew: there is no earlier version to re-deliver. `
      + 'Put the value they used back (file targets: `rotor backup files`), and `rotor adopt` it before rotating, so that a failed rotation restores it');
  }
  if (run.cutShort && rotation.fromVersion !== null && secret.consumers.length && holdsRetiring(deps, run)) {
    // The grace this rotation cut short was retired at the target, but its consumers were
    // to get the new value without it at propagate, which never came: give them the
    // current value without the retired one now.
    const value = await deliverable(deps, run, rotation.fromVersion, [rotation.toVersion]);
    return `consumers: ${await run.propagation.refresh(secret, { value, version: rotation.fromVersion, previous: null }, { always: false })}`;
  }
  return null;
}

/**
 * An undo that fails because the target is briefly unreachable (a restart, a failover) is
 * tried again with backoff: leaving a rotation half rolled back needs a person, a few
 * seconds of patience usually does not.
 */
async function retryWhileUnreachable<T>(fn: () => Promise<T>, delaysMs: readonly number[] = [250, 500, 1000, 2000, 4000]): Promise<T> {
  for (const delay of delaysMs) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof TargetUnreachableError)) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return fn();
}
