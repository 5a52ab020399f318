/**
 * The six steps of a rotation (SPEC "Rotation"), each recorded before and after it acts,
 * and the rollback that runs when one fails. The same code drives a fresh rotation, a
 * resumed one (engine/recovery.ts) and `rotor rollback`: every step is idempotent, so
 * resuming is simply running the interrupted step again.
 *
 * The caller holds the secret's lock (engine/batch.ts); the runner releases it in the
 * commit that ends its part of the rotation.
 */
import type { SecretConfig } from '../config/schema.js';
import { describeError, NotFoundError, RotorError, TargetUnreachableError } from '../errors.js';
import type { SecretValue, StepReport } from '../rotators/types.js';
import type { Mutation, RotationRow, Step, StepPhase, VersionRow } from '../state/types.js';
import type { AnyRotator, EngineDeps, RotateOptions, RotationOutcome } from './context.js';
import { deliversPrevious } from '../consumers/actions.js';
import { soloPropagation, type Propagation } from './propagation.js';
import { adoptValue, valueFrom, type AdoptResult } from './adopt.js';
import { requestFor, RotatorPool } from './rotator-pool.js';
import { newRotationId } from './rotation-id.js';
import { fingerprintOf, parseStored, readVersion, serialize, valueAccess, type ValueAccess } from './values.js';

/** The steps before a value is live; retire follows after grace. */
const LIVE_STEPS = ['create', 'apply', 'verify', 'promote', 'propagate'] as const satisfies readonly Step[];

interface Run {
  /**
   * The "done" record of the last step, written with the run's next commit (normally the
   * next step's "started"). Both land before the next step acts; a crash in between only
   * means the finished step runs again on resume, which idempotency allows.
   */
  deferred: Mutation[];
  /** Versions are immutable once stored, so each is read and checked once per run. */
  values: Map<number, SecretValue>;
  secret: SecretConfig;
  rotation: RotationRow;
  rotator: AnyRotator;
  access: ValueAccess;
  signal: AbortSignal;
  /** How propagate reaches the consumers: alone, or in a round with the batch's other secrets. */
  propagation: Propagation;
  /** `rotor set`: the value create stores instead of generating one. */
  supplied?: SecretValue;
  /** Warnings the rotator's steps reported in this run, for the outcome line. */
  warnings: string[];
  /** This rotation began by retiring the previous one's grace: consumers may still hold that value. */
  cutShort?: boolean;
}

export class Runner {
  private readonly rotators: RotatorPool;
  private readonly abort = new AbortController();
  /** Set on SIGINT/SIGTERM: running steps finish, no new step or rotation starts. */
  private interrupted = false;

  constructor(private readonly deps: EngineDeps) {
    this.rotators = new RotatorPool(deps.config, deps.now);
  }

  /** Stop at the next step boundary: what runs now finishes and is journaled; `rotor resume` goes on. */
  interrupt(): void {
    this.interrupted = true;
  }

  /** Starts a new rotation of `secret`. */
  async rotate(secret: SecretConfig, opts: RotateOptions, propagation?: Propagation): Promise<RotationOutcome> {
    if (this.interrupted) {
      await this.deps.state.releaseLocks([secret.id], this.deps.owner);
      return { secretId: secret.id, status: 'interrupted', error: 'not started: interrupted', hint: 'run the rotation again' };
    }
    const versions = await this.deps.state.liveVersions(secret.id);
    const live = await this.readLive(secret, versions);
    const refused = await this.preflight(secret, opts.input !== undefined);
    if (refused) {
      await this.deps.state.releaseLocks([secret.id], this.deps.owner);
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
        await this.deps.state.releaseLocks([secret.id], this.deps.owner);
        return { secretId: secret.id, status: 'refused', error: this.deps.redactor.redact(describeError(err)), hint: err instanceof RotorError ? err.hint : 'nothing was changed' };
      }
    }
    const open = await this.deps.state.openRotations(secret.id);
    let cutShort = false;
    for (const r of open) {
      if (r.status !== 'grace') {
        await this.deps.state.releaseLocks([secret.id], this.deps.owner);
        return {
          secretId: secret.id, status: 'busy', rotationId: r.id,
          error: `rotation ${r.id} of ${secret.id} was interrupted (${r.status} at ${r.step ?? 'start'})`,
          hint: 'run `rotor resume` to finish or roll it back first',
        };
      }
      // A new rotation ends the grace of the one before: the previous value is retired now.
      const retired = await this.retireRun(await this.load(secret, r, live, propagation), { cutShort: true });
      if (retired.status !== 'succeeded') return retired;
      cutShort = r.fromVersion !== null;
      const { busy } = await this.deps.state.acquireLocks([secret.id], this.deps.owner);
      if (busy.size) return { secretId: secret.id, status: 'busy', error: `${secret.id} was locked by another process after its grace was cut short` };
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
      this.audit(rotation, 'rotation.started', 'ok', null),
    ]);
    return this.drive({ ...(await this.load(secret, rotation, live, propagation)), supplied, cutShort }, 'create');
  }

  /**
   * Asks the rotator whether the target can do this rotation at all, before anything is
   * created: an unsupported strategy or a missing privilege refuses the secret (exit 2), an
   * unreachable target fails it with nothing touched (exit 1).
   */
  private async preflight(secret: SecretConfig, supplied: boolean): Promise<RotationOutcome | undefined> {
    const rotator = await this.rotators.get(this.deps.definitionOf(secret));
    try {
      await rotator.preflight({ ...requestFor(this.deps.config, secret, this.abort.signal), supplied });
      return undefined;
    } catch (err) {
      const usage = err instanceof RotorError && err.outcome === 'usage';
      return {
        secretId: secret.id, status: usage ? 'refused' : 'not-started',
        error: this.deps.redactor.redact(describeError(err)),
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
      return this.rollback(run, step ?? 'create', rotation.error ?? 'rollback requested', { recorded: true, requested });
    }
    if (status === 'grace') {
      const due = rotation.retireAfter !== null && rotation.retireAfter <= this.deps.now();
      if (step === 'retire' || due) return this.retireRun(run, { cutShort: false });
      await this.deps.state.releaseLocks([secret.id], this.deps.owner);
      return this.outcome(run, 'grace');
    }
    if (step === null) return this.drive(run, 'create');
    if (step === 'retire') return this.retireRun(run, { cutShort: false });
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
    return this.retireRun(await this.load(secret, rotation, live), { cutShort: false, force: opts.force ?? false });
  }

  private async retireRun(run: Run, opts: { cutShort: boolean; force?: boolean }): Promise<RotationOutcome> {
    const from = run.rotation.fromVersion;
    const retried = run.rotation.step === 'retire';
    try {
      await this.step(run, 'retire', async () => {
        // On a first rotation there is no stored previous, but the target may still accept a
        // credential from before Rotor: the rotator revokes whatever Rotor does not hold.
        const retiring = from === null ? undefined : await this.value(run, from);
        const current = await this.value(run, run.rotation.toVersion);
        const base = this.request(run);
        const done = await run.rotator.retire({ ...base, retiring, current, emergency: run.rotation.trigger === 'emergency', force: opts.force ?? false });
        // Consumers' copies of a key set lose the retired key too. A grace cut short by a new
        // rotation skips this: that rotation's propagate delivers right after.
        let refreshed: string | undefined;
        if (run.secret.consumers.length && this.holdsRetiring(run) && !opts.cutShort) {
          const value = await this.deliverable(run, run.rotation.toVersion, [from]);
          const handover = { value, version: run.rotation.toVersion, previous: null };
          refreshed = `consumers: ${await run.propagation.refresh(run.secret, handover, { always: retried })}`;
        }
        const check = await run.rotator.checkRejected({ ...base, retired: retiring, current });
        if (!check.rejected) {
          const what = from === null ? 'a credential Rotor does not hold' : `v${from}`;
          throw new Error(`the target still accepts ${what} after retire${check.detail ? `: ${check.detail}` : ''}`);
        }
        // Bookkeeping of what the target already did: it rides with the next commit.
        if (from !== null) run.deferred.push({ kind: 'version.stage', secretId: run.secret.id, version: from, stage: 'retired', at: this.deps.now() });
        return [this.reported(run, done), refreshed, check.detail, opts.cutShort ? 'grace cut short by a new rotation' : undefined].filter(Boolean).join('; ');
      });
    } catch (err) {
      const error = this.deps.redactor.redact(describeError(err));
      await this.commit(run, [
        { kind: 'rotation.update', id: run.rotation.id, set: { status: 'grace', error } },
        { kind: 'lock.release', secretId: run.secret.id, ownerId: this.deps.owner.id },
      ]);
      return {
        ...this.outcome(run, 'failed'), step: 'retire', error,
        hint: `v${from} still works at the target; ${err instanceof RotorError && err.hint ? err.hint : `fix the cause, then run \`rotor retire --force ${run.secret.id}\``}`,
      };
    }
    await this.finish(run, 'succeeded', 'rotation.succeeded');
    return this.outcome(run, 'succeeded');
  }

  /**
   * `rotor rollback`: makes the previous value current again while it is still valid, and
   * withdraws the newer value from the target.
   */
  async rollbackToPrevious(secret: SecretConfig, rotation: RotationRow, reason: string | null, propagation?: Propagation): Promise<RotationOutcome> {
    const run = await this.load(secret, rotation, new Map(), propagation);
    return this.rollback(run, 'propagate', reason ?? 'rollback requested', { recorded: false, requested: true });
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
  async adopt(secret: SecretConfig, input: string, reason: string | null): Promise<AdoptResult> {
    const rotator = await this.rotators.get(this.deps.definitionOf(secret));
    return adoptValue(this.deps, rotator, secret, input, { reason, signal: this.abort.signal });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.rotators.close();
  }

  private async drive(run: Run, start: Step): Promise<RotationOutcome> {
    for (const step of LIVE_STEPS.slice(LIVE_STEPS.indexOf(start as (typeof LIVE_STEPS)[number]))) {
      if (this.interrupted) return this.stopBefore(run, step);
      try {
        await this.step(run, step, () => this.act(run, step));
      } catch (err) {
        return this.rollback(run, step, describeError(err), { recorded: true });
      }
    }
    return this.afterLive(run);
  }

  /** Leaves the rotation journaled where it stands, for `rotor resume`. */
  private async stopBefore(run: Run, step: Step): Promise<RotationOutcome> {
    run.propagation.skipForward(run.secret.id);
    const error = `interrupted before ${step}`;
    await this.commit(run, [
      { kind: 'rotation.update', id: run.rotation.id, set: { error } },
      { kind: 'lock.release', secretId: run.secret.id, ownerId: this.deps.owner.id },
      this.audit(run.rotation, 'rotation.interrupted', 'info', error),
    ]);
    return { ...this.outcome(run, 'interrupted'), step, error, hint: 'run `rotor resume` to finish it' };
  }

  /** The value is live: retire at once when grace is zero, otherwise wait for `rotor retire`. */
  private async afterLive(run: Run): Promise<RotationOutcome> {
    if (run.rotation.retireAfter === null) {
      // Journaled before grace ran from propagate: start it now rather than never.
      run.rotation.retireAfter = this.deps.now() + run.rotation.graceMs;
      run.deferred.push({ kind: 'rotation.update', id: run.rotation.id, set: { retireAfter: run.rotation.retireAfter } });
    }
    if (run.rotation.retireAfter !== null && run.rotation.retireAfter <= this.deps.now()) {
      return this.interrupted ? this.stopBefore(run, 'retire') : this.retireRun(run, { cutShort: false });
    }
    await this.commit(run, [
      { kind: 'rotation.update', id: run.rotation.id, set: { status: 'grace' } },
      { kind: 'lock.release', secretId: run.secret.id, ownerId: this.deps.owner.id },
      this.audit(run.rotation, 'rotation.live', 'ok', `previous value valid until ${new Date(run.rotation.retireAfter ?? 0).toISOString()}`),
    ]);
    return this.outcome(run, 'grace');
  }

  /** Records, acts, records. A failure is recorded and rethrown; a crash in between is what resume repairs. */
  private async step(run: Run, step: Step, act: () => Promise<string | undefined>): Promise<void> {
    await this.record(run, step, 'started', null);
    this.deps.crash(step, 'before');
    let detail: string | undefined;
    try {
      detail = await act();
    } catch (err) {
      await this.record(run, step, 'failed', this.deps.redactor.redact(describeError(err)));
      throw err;
    }
    this.deps.crash(step, 'after');
    await this.record(run, step, 'done', detail ?? null);
  }

  private async act(run: Run, step: (typeof LIVE_STEPS)[number]): Promise<string | undefined> {
    const base = this.request(run);
    const { secret, rotation } = run;
    switch (step) {
      case 'create': {
        // A value stored before a crash is reused, never replaced: it may already be applied.
        const stored = await run.access.store.getVersion({ secretId: secret.id, version: rotation.toVersion, rotationId: rotation.id, exact: true });
        let value: SecretValue;
        if (stored !== undefined) {
          value = parseStored(run.access, secret.id, rotation.toVersion, stored);
        } else {
          const current = rotation.fromVersion === null ? undefined : await this.value(run, rotation.fromVersion);
          // Through the value schema once, so what is stored (and fingerprinted) has the exact
          // shape every later read produces, and a rotator bug cannot store a malformed value.
          value = run.supplied ?? run.access.valueSchema.parse((await run.rotator.generate({ ...base, version: rotation.toVersion, current })).value);
          this.deps.redactor.register(value);
          await run.access.store.putVersion({ secretId: secret.id, version: rotation.toVersion, rotationId: rotation.id, plaintext: serialize(value) });
        }
        run.values.set(rotation.toVersion, value);
        const now = this.deps.now();
        // The vault file is the durable record of the value; the row describing it rides
        // with the next commit, which lands before apply acts. Resume finds the file either way.
        run.deferred.push(
          {
            kind: 'version.insert',
            row: {
              secretId: secret.id, version: rotation.toVersion, stage: 'pending', createdAt: now, stageChangedAt: now,
              rotationId: rotation.id, fingerprint: fingerprintOf(run.access, secret.id, value),
            },
          },
        );
        return stored !== undefined ? `reused v${rotation.toVersion} stored before an interruption` : `stored v${rotation.toVersion}`;
      }
      case 'apply': {
        const pending = await this.value(run, rotation.toVersion);
        const current = rotation.fromVersion === null ? undefined : await this.value(run, rotation.fromVersion);
        return this.reported(run, await run.rotator.apply({ ...base, pending, current }));
      }
      case 'verify': {
        // Read back through the store: what is verified is what was durably stored.
        const value = await this.value(run, rotation.toVersion, { fresh: true });
        return this.reported(run, await run.rotator.verify({ ...base, value }));
      }
      case 'promote': {
        const now = this.deps.now();
        const mutations: Mutation[] = [
          { kind: 'version.stage', secretId: secret.id, version: rotation.toVersion, stage: 'current', at: now },
        ];
        if (rotation.fromVersion !== null) mutations.push({ kind: 'version.stage', secretId: secret.id, version: rotation.fromVersion, stage: 'previous', at: now });
        await this.commit(run, mutations);
        return `v${rotation.toVersion} is current`;
      }
      case 'propagate': {
        let detail = 'no consumers';
        if (secret.consumers.length) {
          // Without grace the previous value is retired right after: consumers get the new
          // value without its key at once, so retire's re-delivery changes nothing to reload.
          const gone = rotation.graceMs === 0 ? [rotation.fromVersion] : [];
          // The value in grace goes to `stage: previous` deliveries; without grace there is none.
          const previous = rotation.graceMs === 0 || rotation.fromVersion === null ? null : await this.deliverable(run, rotation.fromVersion);
          const value = await this.deliverable(run, rotation.toVersion, gone);
          detail = await run.propagation.forward(secret, { value, version: rotation.toVersion, previous });
        }
        // Grace runs from the moment the last consumer has the new value and is healthy on
        // it: a slow rolling restart must not eat the time old tokens and sessions need.
        const retireAfter = this.deps.now() + rotation.graceMs;
        run.deferred.push({ kind: 'rotation.update', id: rotation.id, set: { retireAfter } });
        rotation.retireAfter = retireAfter;
        return detail;
      }
    }
  }

  /**
   * Undo after a failure at `failedStep`, in the reverse order of the steps: put the
   * previous value back as current, then withdraw the new value from the target.
   */
  private async rollback(
    run: Run, failedStep: Step, error: string, opts: { recorded: boolean; requested?: boolean },
  ): Promise<RotationOutcome> {
    const { secret, rotation } = run;
    run.propagation.skipForward(secret.id);
    const safeError = this.deps.redactor.redact(error);
    await this.commit(run, [
      { kind: 'rotation.update', id: rotation.id, set: { status: 'rolling-back', error: opts.requested ? null : safeError } },
      { kind: 'step', row: { rotationId: rotation.id, step: 'rollback', phase: 'started', at: this.deps.now(), detail: safeError } },
    ]);
    this.deps.onEvent?.({ kind: 'rollback', secretId: secret.id, phase: 'started' });
    this.deps.crash('rollback', 'before');
    let doneDetail: string | null = null;
    try {
      const created = await this.deps.state.version(secret.id, rotation.toVersion);
      const now = this.deps.now();
      if (created?.stage === 'current' && rotation.fromVersion !== null) {
        await this.commit(run, [
          { kind: 'version.stage', secretId: secret.id, version: rotation.fromVersion, stage: 'current', at: now },
          { kind: 'version.stage', secretId: secret.id, version: rotation.toVersion, stage: 'pending', at: now },
        ]);
      }
      // Consumers that were given the new value get the previous one back, and must be
      // healthy on it, before the new value is withdrawn from the target. A rollback that
      // resumes after a retire was tried (`rotor rollback` during a failed retire's grace)
      // was live too: its consumers hold the new value.
      const delivered = failedStep === 'propagate' || failedStep === 'retire' || opts.requested;
      if (delivered && secret.consumers.length && rotation.fromVersion !== null) {
        // What stays in grace after the rollback: a `previous` version other than the withdrawn one.
        const inGrace = (await this.deps.state.liveVersions(secret.id)).find((v) => v.stage === 'previous' && v.version !== rotation.toVersion);
        const previous = inGrace ? await this.deliverable(run, inGrace.version, [rotation.toVersion]) : null;
        const value = await this.deliverable(run, rotation.fromVersion);
        const restored = await run.propagation.restore(secret, { value, version: rotation.fromVersion, previous });
        doneDetail = this.deps.redactor.redact(`re-delivered v${rotation.fromVersion}: ${restored}`);
      } else {
        run.propagation.skipRestore(secret.id);
        if (run.cutShort && rotation.fromVersion !== null && secret.consumers.length && this.holdsRetiring(run)) {
          // The grace this rotation cut short was retired at the target, but its consumers were
          // to get the new value without it at propagate, which never came: give them the
          // current value without the retired one now.
          const value = await this.deliverable(run, rotation.fromVersion, [rotation.toVersion]);
          doneDetail = `consumers: ${await run.propagation.refresh(secret, { value, version: rotation.fromVersion, previous: null }, { always: false })}`;
        }
      }
      if (created && failedStep !== 'create') {
        const pending = await this.value(run, rotation.toVersion);
        const current = rotation.fromVersion === null ? undefined : await this.value(run, rotation.fromVersion);
        await retryWhileUnreachable(() => run.rotator.undoApply({ ...this.request(run), pending, current }), this.deps.undoRetryMs);
      }
      if (created) await this.commit(run, [{ kind: 'version.stage', secretId: secret.id, version: rotation.toVersion, stage: 'failed', at: now }]);
      this.deps.crash('rollback', 'after');
    } catch (err) {
      const undoError = this.deps.redactor.redact(describeError(err));
      await this.commit(run, [
        { kind: 'step', row: { rotationId: rotation.id, step: 'rollback', phase: 'failed', at: this.deps.now(), detail: undoError } },
        { kind: 'rotation.update', id: rotation.id, set: { error: `${safeError}; rollback failed: ${undoError}` } },
        { kind: 'lock.release', secretId: secret.id, ownerId: this.deps.owner.id },
        this.audit(rotation, 'rotation.rollback', 'failed', undoError),
      ]);
      this.deps.onEvent?.({ kind: 'rollback', secretId: secret.id, phase: 'failed' });
      return {
        ...this.outcome(run, 'failed'), step: failedStep, error: `${safeError}; rollback failed: ${undoError}`,
        hint: 'fix what the rollback error names, then run `rotor resume` to finish the rollback',
      };
    }
    await this.commit(run, [
      { kind: 'step', row: { rotationId: rotation.id, step: 'rollback', phase: 'done', at: this.deps.now(), detail: doneDetail } },
    ]);
    this.deps.onEvent?.({ kind: 'rollback', secretId: secret.id, phase: 'done' });
    await this.finish(run, 'rolled-back', 'rotation.rolled-back', opts.requested ? 'rolled back on request' : safeError);
    return opts.requested
      ? { ...this.outcome(run, 'rolled-back'), requested: true }
      : { ...this.outcome(run, 'rolled-back'), step: failedStep, error: safeError };
  }

  private async finish(run: Run, status: 'succeeded' | 'rolled-back', action: string, detail: string | null = null): Promise<void> {
    const set: Partial<RotationRow> = { status, finishedAt: this.deps.now() };
    if (status === 'succeeded') set.error = null;
    await this.commit(run, [
      { kind: 'rotation.update', id: run.rotation.id, set },
      { kind: 'lock.release', secretId: run.secret.id, ownerId: this.deps.owner.id },
      this.audit(run.rotation, action, status === 'succeeded' ? 'ok' : 'failed', detail),
    ]);
  }

  private async record(run: Run, step: Step, phase: StepPhase, detail: string | null): Promise<void> {
    const mutations: Mutation[] = [
      { kind: 'step', row: { rotationId: run.rotation.id, step, phase, at: this.deps.now(), detail } },
      { kind: 'rotation.update', id: run.rotation.id, set: { step, phase } },
    ];
    if (phase !== 'started') mutations.push(this.audit(run.rotation, `step.${step}`, phase === 'done' ? 'ok' : 'failed', detail));
    if (phase === 'done') run.deferred.push(...mutations);
    else await this.commit(run, mutations);
    run.rotation.step = step;
    run.rotation.phase = phase;
    this.deps.onEvent?.({ kind: 'step', secretId: run.secret.id, step, phase });
  }

  /** Commits `mutations` for a run, after whatever it deferred. */
  private commit(run: Run, mutations: Mutation[]): Promise<void> {
    const all = [...run.deferred, ...mutations];
    run.deferred = [];
    return this.deps.state.commit(all);
  }

  private audit(rotation: RotationRow, action: string, outcome: 'ok' | 'failed' | 'info', detail: string | null): Mutation {
    return {
      kind: 'audit',
      event: {
        at: this.deps.now(), actor: this.deps.actor, action, secretId: rotation.secretId, version: rotation.toVersion,
        rotationId: rotation.id, outcome, reason: rotation.reason, incident: rotation.incident, detail,
      },
    };
  }

  private request(run: Run) {
    return requestFor(this.deps.config, run.secret, run.signal);
  }

  /**
   * What consumers are given of `version`: its stored value, without keys of earlier
   * versions that no live version uses any more (rotators with forConsumers: key sets,
   * keyrings). `gone` are versions about to be retired, no longer counted as live.
   */
  private async deliverable(run: Run, version: number, gone: (number | null)[] = []): Promise<SecretValue> {
    const value = await this.value(run, version);
    if (!run.rotator.forConsumers) return value;
    const live: SecretValue[] = [];
    for (const row of await this.deps.state.liveVersions(run.secret.id)) {
      if (row.version !== version && !gone.includes(row.version)) live.push(await this.value(run, row.version));
    }
    return run.rotator.forConsumers({ value, live });
  }

  /** A stored version's value, checked against the fingerprint the state store holds. */
  private async value(run: Run, version: number, opts: { fresh?: boolean } = {}): Promise<SecretValue> {
    const cached = run.values.get(version);
    if (cached !== undefined && !opts.fresh) return cached;
    const row = await this.deps.state.version(run.secret.id, version);
    if (!row) throw new NotFoundError(`${run.secret.id} v${version} has no record in the state database`, 'run `rotor history` to see what the state holds; restore it from a backup');
    const value = await readVersion(run.access, row);
    run.values.set(version, value);
    return value;
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

  /** Whether consumers hold the value a retire revokes: key sets, keyrings, `stage: previous` deliveries. */
  private holdsRetiring(run: Run): boolean {
    return run.rotator.forConsumers !== undefined || deliversPrevious(this.deps.config, run.secret.id);
  }

  /** A step's record line, with its warnings kept for the outcome. */
  private reported(run: Run, report: StepReport): string | undefined {
    const warnings = (report.warnings ?? []).map((w) => this.deps.redactor.redact(w));
    run.warnings.push(...warnings);
    return [report.detail, ...warnings.map((w) => `warning: ${w}`)].filter(Boolean).join('; ') || undefined;
  }

  private outcome(run: Run, status: RotationOutcome['status']): RotationOutcome {
    const out: RotationOutcome = { secretId: run.secret.id, status, rotationId: run.rotation.id, version: run.rotation.toVersion };
    if (run.warnings.length) out.warnings = [...run.warnings];
    return out;
  }
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
