/**
 * One rotation as the engine carries it between steps (`Run`), and the reads every step
 * shares: stored values checked against their fingerprint, what consumers are given, the
 * outcome line. Kept apart from the runner so journal.ts, retire.ts and rollback.ts read
 * the same run without reaching into the Runner class.
 */
import type { SecretConfig } from '../config/schema.js';
import { deliversPrevious } from '../consumers/actions.js';
import { NotFoundError } from '../errors.js';
import type { SecretValue, StepReport } from '../rotators/types.js';
import type { Mutation, RotationRow } from '../state/types.js';
import type { AnyRotator, EngineDeps, RotationOutcome } from './context.js';
import type { Propagation } from './propagation.js';
import { requestFor } from './rotator-pool.js';
import { readVersion, type ValueAccess } from './values.js';

export interface Run {
  /**
   * The "done" record of the last step, written with the run's next commit (normally the
   * next step's "started"). Both land before the next step acts; a crash in between only
   * means the finished step runs again on resume, which idempotency allows (journal.ts).
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

/** The fields every rotator request of this run carries. */
export function requestOf(deps: EngineDeps, run: Run) {
  return requestFor(deps.config, run.secret, run.signal);
}

/** A stored version's value, checked against the fingerprint the state store holds. */
export async function valueOf(deps: EngineDeps, run: Run, version: number, opts: { fresh?: boolean } = {}): Promise<SecretValue> {
  const cached = run.values.get(version);
  if (cached !== undefined && !opts.fresh) return cached;
  const row = await deps.state.version(run.secret.id, version);
  if (!row) throw new NotFoundError(`${run.secret.id} v${version} has no record in the state database`, 'run `rotor history` to see what the state holds; restore it from a backup');
  const value = await readVersion(run.access, row);
  run.values.set(version, value);
  return value;
}

/**
 * What consumers are given of `version`: its stored value, without keys of earlier
 * versions that no live version uses any more (rotators with forConsumers: key sets,
 * keyrings). `gone` are versions about to be retired, no longer counted as live.
 */
export async function deliverable(deps: EngineDeps, run: Run, version: number, gone: (number | null)[] = []): Promise<SecretValue> {
  const value = await valueOf(deps, run, version);
  if (!run.rotator.forConsumers) return value;
  const live: SecretValue[] = [];
  for (const row of await deps.state.liveVersions(run.secret.id)) {
    if (row.version !== version && !gone.includes(row.version)) live.push(await valueOf(deps, run, row.version));
  }
  return run.rotator.forConsumers({ value, live });
}

/** Whether consumers hold the value a retire revokes: key sets, keyrings, `stage: previous` deliveries. */
export function holdsRetiring(deps: EngineDeps, run: Run): boolean {
  return run.rotator.forConsumers !== undefined || deliversPrevious(deps.config, run.secret.id);
}

/**
 * A step's record line, with its warnings kept for the outcome. The rotator wrapper
 * (rotator-wrap.ts) has already redacted detail and warnings.
 */
export function reported(run: Run, report: StepReport): string | undefined {
  const warnings = report.warnings ?? [];
  run.warnings.push(...warnings);
  return [report.detail, ...warnings.map((w) => `warning: ${w}`)].filter(Boolean).join('; ') || undefined;
}

export function outcomeOf(run: Run, status: RotationOutcome['status']): RotationOutcome {
  const out: RotationOutcome = { secretId: run.secret.id, status, rotationId: run.rotation.id, version: run.rotation.toVersion };
  if (run.warnings.length) out.warnings = [...run.warnings];
  return out;
}
