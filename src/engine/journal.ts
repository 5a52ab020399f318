/**
 * The write-ahead journal of a rotation (SPEC "Rotation", STYLE "write before you act").
 * Every step is recorded `started` before it acts and `done` or `failed` after; each record
 * commits with its audit event in one transaction, so the log never says more or less
 * than the state.
 *
 * Deferred done-records: a step's `done` record (and bookkeeping such as the new version's
 * row) is not committed on its own but rides with the run's next commit — normally the
 * next step's `started`. Both still land before the next step acts, and a crash in between
 * only means the finished step runs again on resume, which idempotency allows. It halves
 * the commits of a rotation.
 *
 * @example
 * await runStep(deps, run, 'apply', () => run.rotator.apply(req).then((r) => r.detail));
 * await commit(deps, run, [{ kind: 'rotation.update', id, set: { status: 'grace' } }]);
 */
import { describeError } from '../errors.js';
import type { Mutation, RotationRow, Step, StepPhase } from '../state/types.js';
import type { EngineDeps } from './context.js';
import { releaseInCommit } from './locks.js';
import type { Run } from './run.js';
import { changesStages, mirrorStages } from './stage-mirror.js';

/**
 * Commits `mutations` for a run, after whatever it deferred. A commit that changes stages
 * is mirrored into a store that shows them (stage-mirror.ts) before anything acts on it.
 */
export async function commit(deps: EngineDeps, run: Run, mutations: Mutation[]): Promise<void> {
  const all = [...run.deferred, ...mutations];
  run.deferred = [];
  await deps.state.commit(all);
  if (changesStages(all, run.secret.id)) run.warnings.push(...(await mirrorStages(deps, run.secret, run.access.store)));
}

/** The audit event of `rotation`, as a mutation to commit with the record it describes. */
export function audit(deps: EngineDeps, rotation: RotationRow, action: string, outcome: 'ok' | 'failed' | 'info', detail: string | null): Mutation {
  return {
    kind: 'audit',
    event: {
      at: deps.now(), actor: deps.actor, action, secretId: rotation.secretId, version: rotation.toVersion,
      rotationId: rotation.id, outcome, reason: rotation.reason, incident: rotation.incident, detail,
    },
  };
}

/** A step record; `done` is deferred to the next commit, `started` and `failed` commit now. */
export async function record(deps: EngineDeps, run: Run, step: Step, phase: StepPhase, detail: string | null): Promise<void> {
  const mutations: Mutation[] = [
    { kind: 'step', row: { rotationId: run.rotation.id, step, phase, at: deps.now(), detail } },
    { kind: 'rotation.update', id: run.rotation.id, set: { step, phase } },
  ];
  if (phase !== 'started') mutations.push(audit(deps, run.rotation, `step.${step}`, phase === 'done' ? 'ok' : 'failed', detail));
  if (phase === 'done') run.deferred.push(...mutations);
  else await commit(deps, run, mutations);
  run.rotation.step = step;
  run.rotation.phase = phase;
  deps.onEvent?.({ kind: 'step', secretId: run.secret.id, rotationId: run.rotation.id, step, phase });
}

/**
 * Records, acts, records. A failure is recorded (redacted: it may come from a store, a
 * consumer or the engine itself, not only from a wrapped rotator) and rethrown; a crash
 * in between is what resume repairs.
 */
export async function runStep(deps: EngineDeps, run: Run, step: Step, act: () => Promise<string | undefined>): Promise<void> {
  await record(deps, run, step, 'started', null);
  deps.crash(step, 'before');
  let detail: string | undefined;
  try {
    detail = await act();
  } catch (err) {
    await record(deps, run, step, 'failed', deps.redactor.redact(describeError(err)));
    throw err;
  }
  deps.crash(step, 'after');
  await record(deps, run, step, 'done', detail ?? null);
}

/** The last commit of a rotation: its final status, the audit event, and the lock back. */
/**
 * Ends a rotation, and gives its secret's lock back in the same commit — unless `keepLock`:
 * a grace cut short by a new rotation ends inside that rotation, which keeps the lock.
 */
export async function finish(
  deps: EngineDeps, run: Run, status: 'succeeded' | 'rolled-back', action: string, detail: string | null = null, opts: { keepLock?: boolean } = {},
): Promise<void> {
  const set: Partial<RotationRow> = { status, finishedAt: deps.now() };
  if (status === 'succeeded') set.error = null;
  await commit(deps, run, [
    { kind: 'rotation.update', id: run.rotation.id, set },
    ...(opts.keepLock ? [] : [releaseInCommit(deps, run.secret.id)]),
    audit(deps, run.rotation, action, status === 'succeeded' ? 'ok' : 'failed', detail),
  ]);
}
