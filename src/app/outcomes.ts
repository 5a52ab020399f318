/**
 * The one place an outcome becomes an exit code (the CLI) or an HTTP status (the API).
 *
 * Exit codes (SPEC): 0 done, 1 a rotation failed and was rolled back cleanly, 2 bad usage or
 * configuration (nothing touched), 3 a person must look.
 *
 * HTTP statuses (SPEC, "The daemon"; the body is `{error, kind, hint}`):
 * | outcome                                   | exit | HTTP |
 * |-------------------------------------------|------|------|
 * | bad request (UsageError)                  | 2    | 400  |
 * | refused: the target cannot do what the secret asks, or a `set` value was refused | 2 | 400 |
 * | not found (NotFoundError)                 | 2    | 404  |
 * | busy (another holds the lock), skipped (an `after` dependency failed) | 2 | 409 |
 * | bad rotor.yaml / master key (ConfigError, MasterKeyError): the server's own setup, no request can fix it | 2 | 500 |
 * | rolled back cleanly, or not started (a target or consumer failed; nothing changed; safe to retry) | 1 | 502 |
 * | interrupted (shutdown between steps; journaled for resume) | 3 | 503 |
 * | needs a person (rollback or retire failed, integrity, audit) | 3 | 500 |
 *
 * Results that are not errors, by the same classes:
 * | result                                    | exit | HTTP |
 * |-------------------------------------------|------|------|
 * | `plan`: a target cannot do what a secret asks (its problem's class is usage) | 2 | 400 |
 * | `plan`: a target could not answer (any other class)        | 1 | 502 |
 * | `audit`: the chain or a checkpoint does not hold (tampered) | 3 | 500 |
 * | `backup files --seal-legacy`: plaintext copies left that no configured file claims | 1 | 500 |
 *
 * 502 for a clean rollback: the request was sound and Rotor is healthy, but a system it
 * depends on (target, consumer) refused the change, and everything is as before — unlike
 * 500, which says a person must look. The `kind` names the error class either way.
 *
 * @example
 * process.exitCode = exitCodeFor(outcomes);     // the CLI
 * res.status(httpStatusOf(err)).json(errorBody(err)); // the API
 */
import type { OutcomeStatus, RotationOutcome } from '../engine/context.js';
import { ConfigError, MasterKeyError, NotFoundError, RotorError, type Outcome } from '../errors.js';

export type { Outcome };

/** The exit code of an error's outcome class. */
export const exitCodeOf = (outcome: Outcome): 1 | 2 | 3 =>
  outcome === 'usage' ? 2 : outcome === 'rolled-back' ? 1 : 3;

/** The exit code of any thrown thing: its class's, or 3 for one that is not ours (a bug or the environment). */
export const exitCodeOfError = (err: unknown): 1 | 2 | 3 => (err instanceof RotorError ? exitCodeOf(err.outcome) : 3);

/** 3 when a person must look, 1 when something rolled back, 2 when something could not start. */
export function exitCodeFor(outcomes: RotationOutcome[]): 0 | 1 | 2 | 3 {
  const has = (s: OutcomeStatus) => outcomes.some((o) => o.status === s && !o.requested);
  if (has('failed') || has('interrupted')) return 3;
  if (has('rolled-back') || has('not-started')) return 1;
  if (has('busy') || has('skipped') || has('refused')) return 2;
  return 0;
}

/** `rotor rollback`: the rollback asked for is done (0), the secret was busy (2), anything else needs a person (3). */
export function exitCodeForRollback(outcome: RotationOutcome): 0 | 2 | 3 {
  return outcome.status === 'rolled-back' ? 0 : outcome.status === 'busy' ? 2 : 3;
}

/** `rotor plan`: 2 when a target cannot do what a secret asks, 1 when one could not answer, else 0. */
export function exitCodeForPlan(plans: { problem: { outcome: Outcome } | null }[]): 0 | 1 | 2 {
  const problems = plans.filter((p) => p.problem);
  return problems.some((p) => p.problem!.outcome === 'usage') ? 2 : problems.length ? 1 : 0;
}

/** The HTTP status of a plan, by the same precedence as exitCodeForPlan. */
export function httpStatusForPlan(plans: { problem: { outcome: Outcome } | null }[]): 200 | 400 | 502 {
  const code = exitCodeForPlan(plans);
  return code === 2 ? 400 : code === 1 ? 502 : 200;
}

/** `rotor audit`: a chain or checkpoint that does not hold means a person must look (app/audit.ts). */
export const exitCodeForAudit = (result: { ok: boolean }): 0 | 3 => (result.ok ? 0 : 3);
export const httpStatusForAudit = (result: { ok: boolean }): 200 | 500 => (result.ok ? 200 : 500);

/**
 * `rotor backup files --seal-legacy`: copies no configured file claims are left in plaintext
 * for a person to delete (exit 1, as it always was; HTTP 500: a person must act).
 */
export const exitCodeForSealLegacy = (result: { left: string[] }): 0 | 1 => (result.left.length ? 1 : 0);
export const httpStatusForSealLegacy = (result: { left: string[] }): 200 | 500 => (result.left.length ? 500 : 200);

/** The HTTP status of a thrown thing (see the table above). */
export function httpStatusOf(err: unknown): 400 | 404 | 500 | 502 {
  if (!(err instanceof RotorError)) return 500;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConfigError || err instanceof MasterKeyError) return 500;
  return err.outcome === 'usage' ? 400 : err.outcome === 'rolled-back' ? 502 : 500;
}

/** The API's error body: never a stack, never a value (messages are built from ids and metadata). */
export function errorBody(err: unknown): { error: string; kind: string; hint: string | undefined } {
  if (err instanceof RotorError) return { error: err.message, kind: err.name, hint: err.hint };
  return { error: 'internal error', kind: 'InternalError', hint: 'see the daemon log' };
}

/** The HTTP status of a batch of outcomes, by the same precedence as exitCodeFor. */
export function httpStatusFor(outcomes: RotationOutcome[]): 200 | 400 | 409 | 500 | 502 | 503 {
  const has = (s: OutcomeStatus) => outcomes.some((o) => o.status === s && !o.requested);
  if (has('failed')) return 500;
  if (has('interrupted')) return 503;
  if (has('rolled-back') || has('not-started')) return 502;
  if (has('busy') || has('skipped')) return 409;
  if (has('refused')) return 400;
  return 200;
}
