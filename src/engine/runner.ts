/**
 * The coordinator of a rotation's six steps (SPEC "Rotation"): it decides which step runs
 * next — for a fresh rotation, a resumed one (engine/recovery.ts), `rotor retire` and
 * `rotor rollback` — and leaves the work to one module each:
 *
 * - live-steps.ts: create, apply, verify, promote, propagate;
 * - retire.ts: the sixth step, and the consumer refresh it needs;
 * - rollback.ts: the undo when a step fails;
 * - journal.ts: the records before and after every step, audit events, deferred done-records;
 * - locks.ts: every way a rotation lock is taken and given back;
 * - rotator-pool.ts: the rotators, wrapped in redaction, timing and step timeouts.
 *
 * Every step is idempotent, so resuming is simply running the interrupted step again. The
 * caller holds the secret's lock (engine/batch.ts); the commit that ends the runner's part
 * of a rotation releases it.
 */
import { setMaxListeners } from 'node:events';
import type { SecretConfig } from '../config/schema.js';
import { preflightConsumers } from '../consumers/preflight.js';
import { describeError, RotorError } from '../errors.js';
import type { SecretValue } from '../rotators/types.js';
import type { RotationRow, Step, VersionRow } from '../state/types.js';
import type { EngineDeps, RotateOptions, RotationOutcome } from './context.js';
import { soloPropagation, type Propagation } from './propagation.js';
import { adoptValue, valueFrom, type AdoptResult, type AdoptSource } from './adopt.js';
import { audit, commit, runStep } from './journal.js';
import { actLive, LIVE_STEPS, type LiveStep } from './live-steps.js';
import { releaseInCommit, releaseUnstarted } from './locks.js';
import { rollback } from './rollback.js';
import { retireRun } from './retire.js';
import { requestFor, RotatorPool } from './rotator-pool.js';
import { newRotationId } from './rotation-id.js';
import { outcomeOf, type Run } from './run.js';
import { readVersion, serialize, valueAccess } from './values.js';
import { isStagedVersionStore } from '../stores/types.js';

export class Runner {
  private readonly rotators: RotatorPool;
  private readonly abort = new AbortController();
  /** Set on SIGINT/SIGTERM: running steps finish, no new step or rotation starts. */
  private interrupted = false;

  constructor(private readonly deps: EngineDeps) {
    // Every rotator call in flight listens on this signal (one per secret of a batch).
    setMaxListeners(0, this.abort.signal);
    this.rotators = new RotatorPool(deps.config, deps.now, {
      redactor: deps.redactor,
      onCall: (c) => deps.onEvent?.({ kind: 'timing', secretId: c.secretId, call: c.method, step: c.step, ms: c.ms, ok: c.ok }),
    });
  }

  /** Stop at the next step boundary: what runs now finishes and is journaled; `rotor resume` goes on. */
  interrupt(): void {
    this.interrupted = true;
  }

  /** Starts a new rotation of `secret`. */
  async rotate(secret: SecretConfig, opts: RotateOptions, propagation?: Propagation): Promise<RotationOutcome> {
    if (this.interrupted) {
      await releaseUnstarted(this.deps, secret.id);
      return { secretId: secret.id, status: 'interrupted', error: 'not started: interrupted', hint: 'run the rotation again' };
    }
    const versions = await this.deps.state.liveVersions(secret.id);
    const live = await this.readLive(secret, versions);
    const refused = await this.preflight(secret, opts.input !== undefined);
    if (refused) {
      await releaseUnstarted(this.deps, secret.id);
      return refused;
    }
    const currentRow = versions.find((v) => v.stage === 'current');
    const toVersion = (await this.deps.state.maxVersion(secret.id)) + 1;
    let supplied: SecretValue | undefined;
    if (opts.input !== undefined) {
      // `rotor set`: the value is checked before anything changes (a grace is not cut short
      // for a value that will be refused).
      try {
        const rotator = await this.rotators.get(this.deps.definitionOf(secret));
        const current = currentRow ? live.get(currentRow.version) : undefined;
        supplied = await valueFrom(this.deps, rotator, secret, opts.input, this.abort.signal, { kind: 'set', version: toVersion, current });
        this.deps.redactor.register(supplied);
        if (this.deps.definitionOf(secret).targetType === null) await rotator.verify({ ...requestFor(this.deps.config, secret, this.abort.signal), value: supplied });
      } catch (err) {
        await releaseUnstarted(this.deps, secret.id);
        return { secretId: secret.id, status: 'refused', error: this.deps.redactor.redact(describeError(err)), hint: err instanceof RotorError ? err.hint : 'nothing was changed' };
      }
    }
    const open = await this.deps.state.openRotations(secret.id);
    let cutShort = false;
    for (const r of open) {
      if (r.status !== 'grace') {
        await releaseUnstarted(this.deps, secret.id);
        return {
          secretId: secret.id, status: 'busy', rotationId: r.id,
          error: `rotation ${r.id} of ${secret.id} was interrupted (${r.status} at ${r.step ?? 'start'})`,
          hint: 'run `rotor resume` to finish or roll it back first',
        };
      }
      // A new rotation ends the grace of the one before: the previous value is retired now.
      const retired = await retireRun(this.deps, await this.load(secret, r, live, propagation), { cutShort: true });
      if (retired.status !== 'succeeded') return retired;
      cutShort = r.fromVersion !== null;
    }

    // Retiring a grace above changed only the previous version: the current one is as read.
    const now = this.deps.now();
    const rotation: RotationRow = {
      id: newRotationId(now), secretId: secret.id, trigger: opts.trigger, reason: opts.reason, incident: opts.incident,
      actor: this.deps.actor, status: 'running', fromVersion: currentRow?.version ?? null,
      toVersion, graceMs: opts.noGrace ? 0 : secret.graceMs,
      step: null, phase: null, retireAfter: null, startedAt: now, finishedAt: null, error: null,
    };
    // A value the user handed in is stored before the rotation is recorded: a crash at any
    // point after leaves it where `create` (and so `rotor resume`) finds it.
    if (supplied !== undefined) {
      await valueAccess(this.deps, secret).store.putVersion({ secretId: secret.id, version: toVersion, rotationId: rotation.id, plaintext: serialize(supplied) });
    }
    await this.deps.state.commit([
      { kind: 'rotation.insert', row: rotation },
      audit(this.deps, rotation, 'rotation.started', 'ok', null),
    ]);
    return this.drive({ ...(await this.load(secret, rotation, live, propagation)), supplied, cutShort }, 'create');
  }

  /**
   * Asks the rotator whether the target can do this rotation at all, and the consumers'
   * kinds whether they will be allowed to deliver, reload and check (consumers/preflight.ts),
   * before anything is created: an unsupported strategy or a missing privilege refuses the secret (exit 2), an
   * unreachable target fails it with nothing touched (exit 1).
   */
  private async preflight(secret: SecretConfig, supplied: boolean): Promise<RotationOutcome | undefined> {
    const rotator = await this.rotators.get(this.deps.definitionOf(secret));
    const store = this.deps.storeFor(secret);
    try {
      if (isStagedVersionStore(store)) await store.preflight({ secretId: secret.id });
      await rotator.preflight({ ...requestFor(this.deps.config, secret, this.abort.signal), supplied });
      await preflightConsumers(this.deps.config, secret);
      return undefined;
    } catch (err) {
      const usage = err instanceof RotorError && err.outcome === 'usage';
      return {
        secretId: secret.id, status: usage ? 'refused' : 'not-started',
        // Redacted by the rotator wrapper (rotator-wrap.ts).
        error: describeError(err),
        hint: err instanceof RotorError && err.hint ? err.hint : 'nothing was changed; fix the target and run the rotation again',
      };
    }
  }

  /** Continues a rotation a crash interrupted: the interrupted step runs again. */
  async resume(secret: SecretConfig, rotation: RotationRow, propagation?: Propagation): Promise<RotationOutcome> {
    const run = await this.load(secret, rotation, new Map(), propagation);
    const { status, step, phase } = rotation;
    if (status === 'rolling-back' || (status === 'running' && phase === 'failed')) {
      // A rollback a person asked for records no error; one a failure started always does.
      const requested = status === 'rolling-back' && rotation.error === null;
      return rollback(this.deps, run, step ?? 'create', rotation.error ?? 'rollback requested', { recorded: true, requested });
    }
    if (status === 'grace') {
      const due = rotation.retireAfter !== null && rotation.retireAfter <= this.deps.now();
      if (step === 'retire' || due) return retireRun(this.deps, run, { cutShort: false });
      await releaseUnstarted(this.deps, secret.id);
      return outcomeOf(run, 'grace');
    }
    if (step === null) return this.drive(run, 'create');
    if (step === 'retire') return retireRun(this.deps, run, { cutShort: false });
    if (phase === 'done') {
      const next = LIVE_STEPS[LIVE_STEPS.indexOf(step) + 1];
      return next ? this.drive(run, next) : this.afterLive(run);
    }
    return this.drive(run, step);
  }

  /**
   * Retires the previous value of a rotation in grace: revoke at the target, prove it is
   * rejected. `force` (`rotor retire --force`) also overrides what a rotator would hold
   * the retire for, such as data still encrypted under an old key.
   */
  async retire(secret: SecretConfig, rotation: RotationRow, opts: { force?: boolean } = {}): Promise<RotationOutcome> {
    const live = await this.readLive(secret, await this.deps.state.liveVersions(secret.id));
    return retireRun(this.deps, await this.load(secret, rotation, live), { cutShort: false, force: opts.force ?? false });
  }

  /**
   * `rotor rollback`: makes the previous value current again while it is still valid, and
   * withdraws the newer value from the target.
   */
  async rollbackToPrevious(secret: SecretConfig, rotation: RotationRow, reason: string | null, propagation?: Propagation): Promise<RotationOutcome> {
    const run = await this.load(secret, rotation, new Map(), propagation);
    return rollback(this.deps, run, 'propagate', reason ?? 'rollback requested', { recorded: false, requested: true });
  }

  /**
   * Reads every live value of `secret` before anything is written, so damaged or
   * wrongly-keyed data stops the command with nothing recorded and nothing touched. The
   * values read seed the run's cache.
   */
  private async readLive(secret: SecretConfig, liveVersions: VersionRow[]): Promise<Map<number, SecretValue>> {
    const access = valueAccess(this.deps, secret);
    const live = new Map<number, SecretValue>();
    for (const v of liveVersions) live.set(v.version, await readVersion(access, v));
    return live;
  }

  /** `rotor adopt`: the value in use today becomes v1 current, proven at the target first. */
  async adopt(secret: SecretConfig, source: AdoptSource, reason: string | null): Promise<AdoptResult> {
    const rotator = await this.rotators.get(this.deps.definitionOf(secret));
    return adoptValue(this.deps, rotator, secret, source, { reason, signal: this.abort.signal });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.rotators.close();
  }

  private async drive(run: Run, start: Step): Promise<RotationOutcome> {
    for (const step of LIVE_STEPS.slice(LIVE_STEPS.indexOf(start as LiveStep))) {
      if (this.interrupted) return this.stopBefore(run, step);
      try {
        await runStep(this.deps, run, step, () => actLive(this.deps, run, step));
      } catch (err) {
        const outcome = await rollback(this.deps, run, step, describeError(err), { recorded: true, hint: err instanceof RotorError ? err.hint : undefined });
        // A store that refused to keep the new value (a missing IAM grant) touched nothing:
        // a setup problem, exit 2, like a refusal at preflight.
        const refused = step === 'create' && outcome.status === 'rolled-back' && err instanceof RotorError && err.outcome === 'usage';
        return refused ? { ...outcome, status: 'refused' } : outcome;
      }
    }
    return this.afterLive(run);
  }

  /** Leaves the rotation journaled where it stands, for `rotor resume`. */
  private async stopBefore(run: Run, step: Step): Promise<RotationOutcome> {
    run.propagation.skipForward(run.secret.id);
    const error = `interrupted before ${step}`;
    await commit(this.deps, run, [
      { kind: 'rotation.update', id: run.rotation.id, set: { error } },
      releaseInCommit(this.deps, run.secret.id),
      audit(this.deps, run.rotation, 'rotation.interrupted', 'info', error),
    ]);
    return { ...outcomeOf(run, 'interrupted'), step, error, hint: 'run `rotor resume` to finish it' };
  }

  /** The value is live: retire at once when grace is zero, otherwise wait for `rotor retire`. */
  private async afterLive(run: Run): Promise<RotationOutcome> {
    let retireAfter = run.rotation.retireAfter;
    if (retireAfter === null) {
      // Journaled before grace ran from propagate: start it now rather than never.
      run.rotation.retireAfter = retireAfter = this.deps.now() + run.rotation.graceMs;
      run.deferred.push({ kind: 'rotation.update', id: run.rotation.id, set: { retireAfter } });
    }
    if (retireAfter <= this.deps.now()) {
      return this.interrupted ? this.stopBefore(run, 'retire') : retireRun(this.deps, run, { cutShort: false });
    }
    await commit(this.deps, run, [
      { kind: 'rotation.update', id: run.rotation.id, set: { status: 'grace' } },
      releaseInCommit(this.deps, run.secret.id),
      audit(this.deps, run.rotation, 'rotation.live', 'ok', `previous value valid until ${new Date(retireAfter).toISOString()}`),
    ]);
    return outcomeOf(run, 'grace');
  }

  private async load(
    secret: SecretConfig, rotation: RotationRow, known: Map<number, SecretValue> = new Map(), propagation = soloPropagation(this.deps.config, this.deps.deliveryBackups),
  ): Promise<Run> {
    const rotator = this.rotators.get(this.deps.definitionOf(secret));
    return {
      deferred: [],
      values: new Map(known),
      secret,
      rotation: { ...rotation },
      rotator: await rotator,
      access: valueAccess(this.deps, secret),
      signal: this.abort.signal,
      propagation,
      warnings: [],
    };
  }
}
