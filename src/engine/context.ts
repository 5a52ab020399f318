/**
 * Everything the engine needs, as one dependency object, so a test builds an engine with
 * one literal and production code builds it in one place (cli/open.ts).
 */
import type { RotorConfig, SecretConfig, TimedStep } from '../config/schema.js';
import type { DeliveryBackups } from '../fs/safe-replace.js';
import type { AnyRotatorDefinition, SecretValue, Rotator } from '../rotators/types.js';
import type { LockOwner, StateStore, Step, Trigger } from '../state/types.js';
import type { VersionStore } from '../stores/types.js';
import type { CrashPoint } from './crash.js';
import type { Redactor } from './redact.js';

export type { AnyRotatorDefinition };
export type AnyRotator = Rotator<unknown, SecretValue>;

export interface EngineDeps {
  config: RotorConfig;
  state: StateStore;
  /** The version store a secret's values live in (its `store`). */
  storeFor(secret: SecretConfig): VersionStore;
  definitionOf(secret: SecretConfig): AnyRotatorDefinition;
  fingerprintKey: Buffer;
  redactor: Redactor;
  crash: CrashPoint;
  actor: string;
  /** This process run, as the holder of rotation locks. */
  owner: LockOwner;
  now: () => number;
  /** Keeps a sealed copy of what each delivery into a file replaces; without it, none is kept. */
  deliveryBackups?: DeliveryBackups;
  /** Waits between attempts of an undo that finds the target unreachable (default ~8 s in all). */
  undoRetryMs?: readonly number[];
  /** Progress for the terminal and the daemon; never carries values. */
  onEvent?: (e: EngineEvent) => void;
}

export type EngineEvent =
  | { kind: 'step'; secretId: string; rotationId: string; step: Step; phase: 'started' | 'done' | 'failed' }
  | { kind: 'rollback'; secretId: string; phase: 'started' | 'done' | 'failed' }
  /** One rotator call and how long it took (rotator-wrap.ts): for metrics and slow-target hunting. */
  | { kind: 'timing'; secretId: string; call: string; step: TimedStep; ms: number; ok: boolean }
  | { kind: 'finished'; secretId: string; outcome: RotationOutcome };

export interface RotateOptions {
  trigger: Trigger;
  reason: string | null;
  incident: string | null;
  /** Retire the previous value at once instead of after grace. */
  noGrace: boolean;
  /** `rotor set`: the new value as the user gave it, instead of one the rotator generates. */
  input?: string;
}

/**
 * `refused`: the target cannot do what the secret asks (preflight), nothing touched;
 * `not-started`: the target could not be reached before the rotation began, nothing touched;
 * `interrupted`: stopped between steps on SIGINT/SIGTERM, journaled for `rotor resume`.
 */
export type OutcomeStatus = 'succeeded' | 'grace' | 'rolled-back' | 'failed' | 'busy' | 'skipped' | 'refused' | 'not-started' | 'interrupted';

export interface RotationOutcome {
  secretId: string;
  status: OutcomeStatus;
  rotationId?: string;
  version?: number;
  /** The failed step, when one failed. */
  step?: Step;
  error?: string;
  hint?: string;
  /** A rollback a person asked for (`rotor rollback`), finished: not a failure. */
  requested?: boolean;
  /** What the steps warned about although they succeeded (see StepReport.warnings). */
  warnings?: string[];
}
