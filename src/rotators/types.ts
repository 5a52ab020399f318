/**
 * The contract every rotator implements. A reader of one rotator's folder needs nothing
 * outside this file.
 *
 * The engine (engine/runner.ts) drives a rotation through six steps — create, apply,
 * verify, promote, propagate, retire — and owns everything around them: storing values,
 * recording each step before and after it acts, locking, audit, rollback. A rotator only
 * knows its target. Like Vault's database plugins and AWS's rotation lambdas, every method
 * takes one request object and returns one response object, so fields can be added later
 * without breaking implementations.
 *
 * Redaction, timing and step timeouts wrap every rotator from outside (engine/rotator-wrap.ts):
 * a rotator need not scrub its errors, though it must never put a value in them on purpose.
 *
 * Idempotency is the heart of crash safety: after a crash, `rotor resume` calls the
 * interrupted method again with the same request. Each method documents what it must do
 * when its work was already done.
 */
import type { z } from 'zod';
import type { TimedStep } from '../config/schema.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A secret's value: a plain string (an API key) or a structured credential. */
export type SecretValue = string | { [key: string]: Json };

/** An admin connection from rotor.yaml `targets`. The URL may hold credentials: never log it. */
export interface TargetRef {
  name: string;
  type: string;
  url: string;
}

interface RequestBase<Spec> {
  secretId: string;
  /** The secret's type-specific settings from rotor.yaml, already validated by the rotator's schema. */
  spec: Spec;
  target: TargetRef | undefined;
  /**
   * Aborted when the engine closes or the step's timeout expires (`timeouts.<step>` of the
   * secret, else `defaults.stepTimeout`). Pass it to what can take it (drain, fetch, child
   * processes); admin queries and login attempts should give up when it fires. The engine
   * does not rely on it: its wrapper (engine/rotator-wrap.ts) races every call against the
   * timeout and fails the step when it expires, whatever the rotator is still doing — so a
   * method must stay safe to run again (idempotent) after being abandoned mid-way.
   */
  signal: AbortSignal;
}

export interface GenerateRequest<Spec, Value> extends RequestBase<Spec> {
  version: number;
  /** The value in use now; alternating strategies derive the next username from it. */
  current: Value | undefined;
}

export interface ApplyRequest<Spec, Value> extends RequestBase<Spec> {
  pending: Value;
  current: Value | undefined;
}

export interface VerifyRequest<Spec, Value> extends RequestBase<Spec> {
  value: Value;
}

export interface UndoApplyRequest<Spec, Value> extends RequestBase<Spec> {
  pending: Value;
  /** The value that must keep working after the undo. */
  current: Value | undefined;
}

export interface RetireRequest<Spec, Value> extends RequestBase<Spec> {
  /**
   * The value to revoke. Undefined on the first rotation of a secret whose value in use
   * before Rotor was not adopted (`rotor adopt`): then retire revokes every credential of
   * the login that Rotor does not hold (SPEC "Nothing left behind") — the target ends up
   * accepting `current` and nothing else for this secret.
   */
  retiring: Value | undefined;
  current: Value;
  /** An emergency skips waiting for clients still on the old value. */
  emergency: boolean;
  /** `rotor retire --force`: the user overrides what would hold the retire (grace, data still under an old key). */
  force: boolean;
}

export interface CheckRejectedRequest<Spec, Value> extends RequestBase<Spec> {
  /**
   * The retired value, to try. Undefined when retire revoked what Rotor never held (see
   * RetireRequest.retiring): prove from the target's own records, where it can tell, that
   * `current` is the only credential left.
   */
  retired: Value | undefined;
  current: Value;
}

export interface PreflightRequest<Spec> extends RequestBase<Spec> {
  /** The new value comes from the user (`rotor set`), not from generate. */
  supplied?: boolean;
}

export interface AdoptRequest<Spec> extends RequestBase<Spec> {
  /** What the user typed on stdin for `rotor adopt`, when it is not already a whole value (a bare password). */
  input: string;
}

export interface ForConsumersRequest<Value> {
  value: Value;
  /** The values of the versions that stay in use (current, previous in grace, pending). */
  live: Value[];
}

export interface PreflightResponse {
  /** What `rotor plan` shows about the target: its version, what the strategy will touch. */
  notes: string[];
}

export interface StepReport {
  /** One line for the audit log and the progress display. Never a secret value. */
  detail?: string;
  /**
   * What the user must know although the step succeeded (a change a restart would undo).
   * Shown on the outcome line and in `rotor history`, recorded with the step. Never a value.
   */
  warnings?: string[];
}

export interface CheckRejectedResponse {
  /** True when the target refused the retired value, or the type has no target to ask. */
  rejected: boolean;
  detail?: string;
}

/** What each step does for one secret, shown by `rotor plan`. */
export type StepPlan = Record<'create' | 'apply' | 'verify' | 'promote' | 'propagate' | 'retire', string>;

export interface Rotator<Spec, Value extends SecretValue> {
  /**
   * Before anything is created: can this target rotate this secret with this strategy?
   * Reads only. Throws a RotorError that says what to grant or change — outcome `usage`
   * when the configuration does not fit the server (an unsupported strategy, a missing
   * privilege), `rolled-back` when the target cannot be reached. `rotor plan` shows the
   * answer and `rotor rotate` refuses the secret on it, so a server that cannot do what is
   * asked is found before a rotation starts, not half-way through.
   */
  preflight(req: PreflightRequest<Spec>): Promise<PreflightResponse>;

  /** create: a new value. No side effects — the engine stores it durably before anything sees it. */
  generate(req: GenerateRequest<Spec, Value>): Promise<{ value: Value }>;

  /**
   * apply: make the target accept `pending` (keeping `current` working where the strategy
   * allows). Idempotent: when the target already accepts `pending`, succeed.
   */
  apply(req: ApplyRequest<Spec, Value>): Promise<StepReport>;

  /** verify: log in to the target with `value` and run the secret's checks. Throws when it does not work. */
  verify(req: VerifyRequest<Spec, Value>): Promise<StepReport>;

  /**
   * Undo of apply, run by rollback: the target must stop accepting `pending` and accept
   * `current`. Idempotent: when `pending` was never applied, succeed.
   */
  undoApply(req: UndoApplyRequest<Spec, Value>): Promise<StepReport>;

  /** retire: revoke `retiring` at the target. Idempotent: when it is already revoked, succeed. */
  retire(req: RetireRequest<Spec, Value>): Promise<StepReport>;

  /** After retire: prove the target now rejects the retired value. */
  checkRejected(req: CheckRejectedRequest<Spec, Value>): Promise<CheckRejectedResponse>;

  /**
   * Optional, for values that carry keys of earlier versions (key sets, keyrings): what
   * consumers are given of `value` — without the keys no version in `live` uses any more,
   * so a delivered copy never keeps a retired key working. Pure; the stored value is unchanged.
   */
  forConsumers?(req: ForConsumersRequest<Value>): Value;

  /**
   * Optional: `rotor adopt` with a bare password — the whole value of the credential in
   * use before Rotor (the login the strategy starts from, where clients connect). Types
   * without it adopt only a whole value (JSON on stdin) that passes their value schema.
   */
  adoptValue?(req: AdoptRequest<Spec>): Promise<{ value: Value }>;

  /** Release connections. Called once when the engine is done with this rotator. */
  close(): Promise<void>;
}

export interface RotatorDeps {
  /** Monotonic time in ms, swappable in tests. */
  now: () => number;
  /** The directory of rotor.yaml: relative paths in a secret's spec resolve against it. */
  baseDir: string;
  /** Environment variables a command a rotator runs must not inherit (the targets' admin URLs). */
  hookEnvDeny?: readonly string[];
}

/**
 * One entry of the registry. `schema` is light (zod only) and is loaded with the config;
 * `load` imports the implementation only when a rotation needs it, which keeps
 * `rotor status` and `rotor --version` fast.
 */
export interface RotatorDefinition<T extends string, Spec, Value extends SecretValue> {
  type: T;
  summary: string;
  /** The type-specific fields of a secret in rotor.yaml. */
  schema: z.ZodType<Spec>;
  /** Values read back from a store are checked against this before use. */
  valueSchema: z.ZodType<Value>;
  /** Which kind of `targets` entry the secret must name, or null when the type has none. */
  targetType: string | null;
  /** The target is optional (a keyring names one only when Rotor re-encrypts its data). */
  targetOptional?: boolean;
  plan(spec: Spec): { steps: StepPlan; notes: string[] };
  /**
   * How long the rotator itself may rightly wait within a step (a drain before retire, a
   * provider command): the step's default timeout is stretched to cover it, and an explicit
   * `timeouts.<step>` shorter than it is a config error.
   */
  waits?(spec: Spec): Partial<Record<TimedStep, number>>;
  load(): Promise<(deps: RotatorDeps) => Rotator<Spec, Value>>;
}

/** A definition with its types erased, as the engine holds it; every definition is assignable to it. */
export type AnyRotatorDefinition = RotatorDefinition<string, unknown, SecretValue>;
