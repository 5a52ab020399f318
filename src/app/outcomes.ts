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
