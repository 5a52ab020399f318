/**
 * What wraps every rotator from outside (as Vault wraps its database plugins), applied
 * once in RotatorPool.get, so no rotator and no engine step repeats it:
 *
 * - redaction: what a rotator throws (message, hint) and reports (details, warnings,
 *   preflight notes) passes through the redactor — drivers echo what they were given;
 * - timing: each call's duration goes to `onCall` (the engine's `timing` event);
 * - step timeouts: each request's `signal` also fires when the step's timeout expires
 *   (`timeouts.<step>` of the secret, else `defaults.stepTimeout`), and the call is raced
 *   against it, so a rotator that ignores the signal still fails the step on time with
 *   StepTimeoutError. Its abandoned work is cut off by the signal where the rotator honours it.
 *
 * Errors keep their class (the engine retries TargetUnreachableError, reads RotorError
 * outcomes): they are redacted in place, not replaced.
 */
import { formatDuration } from '../config/duration.js';
import type { RotorConfig, SecretConfig, TimedStep } from '../config/schema.js';
import { RotorError } from '../errors.js';
import type { CheckRejectedResponse, PreflightResponse, StepReport } from '../rotators/types.js';
import type { AnyRotator } from './context.js';
import type { Redactor } from './redact.js';

/** When neither the secret nor `defaults.stepTimeout` says: generous, a safety net only. */
export const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000;

export interface RotatorCall {
  secretId: string;
  method: string;
  step: TimedStep;
  ms: number;
  ok: boolean;
}

export interface WrapOptions {
  config: RotorConfig;
  redactor?: Redactor;
  onCall?: (call: RotatorCall) => void;
}

/** A step took longer than its timeout. Fails the step like any failure: rollback follows. */
export class StepTimeoutError extends RotorError {
  constructor(step: TimedStep, ms: number, secretId: string) {
    super(`${step} of ${secretId} timed out after ${formatDuration(ms)}`, {
      outcome: 'rolled-back',
      hint: `the target did not answer in time; if it is only slow, raise \`timeouts.${step}\` of the secret or \`defaults.stepTimeout\``,
    });
  }
}

export function wrapRotator(rotator: AnyRotator, opts: WrapOptions): AnyRotator {
  const secrets = new Map<string, SecretConfig>(opts.config.secrets.map((s) => [s.id, s]));
  const redact = (text: string): string => opts.redactor?.redact(text) ?? text;
  const report = <R extends StepReport>(r: R): R => ({
    ...r,
    ...(r.detail === undefined ? {} : { detail: redact(r.detail) }),
    ...(r.warnings === undefined ? {} : { warnings: r.warnings.map(redact) }),
  });
  const timeoutOf = (secretId: string, step: TimedStep): number =>
    secrets.get(secretId)?.timeoutsMs?.[step] ?? opts.config.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;

  /** Runs one rotator method under the step's timeout, timed and redacted. */
  async function call<Req extends { secretId: string; signal: AbortSignal }, Res>(
    method: string, step: TimedStep, req: Req, fn: (req: Req) => Promise<Res>, clean: (res: Res) => Res,
  ): Promise<Res> {
    const ms = timeoutOf(req.secretId, step);
    // One controller per call, fed by the caller's signal through a listener:
    // AbortSignal.any would tie every call to the long-lived caller signal (Node keeps its
    // dependants until collected), which cost a 1,000-secret rotation a fifth of its time.
    const inner = new AbortController();
    const onOuter = () => inner.abort(req.signal.reason);
    if (req.signal.aborted) onOuter();
    else req.signal.addEventListener('abort', onOuter, { once: true });
    let expire!: (err: Error) => void;
    const expired = new Promise<never>((_, reject) => { expire = reject; });
    let work: Promise<Res> | undefined;
    const handle = setTimeout(() => {
      const err = new StepTimeoutError(step, ms, req.secretId);
      work?.catch(() => {}); // the abandoned call's own failure is not news
      inner.abort(err);
      expire(err);
    }, ms);
    handle.unref();
    const started = performance.now();
    let ok = false;
    try {
      work = fn({ ...req, signal: inner.signal });
      const res = await Promise.race([work, expired]);
      ok = true;
      return clean(res);
    } catch (err) {
      throw redactError(err, redact);
    } finally {
      clearTimeout(handle);
      req.signal.removeEventListener('abort', onOuter);
      opts.onCall?.({ secretId: req.secretId, method, step, ms: Math.round(performance.now() - started), ok });
    }
  }

  const same = <T>(x: T): T => x;
  const wrapped: AnyRotator = {
    preflight: (req) => call('preflight', 'preflight', req, (r) => rotator.preflight(r), (r: PreflightResponse) => ({ ...r, notes: r.notes.map(redact) })),
    generate: (req) => call('generate', 'create', req, (r) => rotator.generate(r), same),
    apply: (req) => call('apply', 'apply', req, (r) => rotator.apply(r), report),
    verify: (req) => call('verify', 'verify', req, (r) => rotator.verify(r), report),
    undoApply: (req) => call('undoApply', 'rollback', req, (r) => rotator.undoApply(r), report),
    retire: (req) => call('retire', 'retire', req, (r) => rotator.retire(r), report),
    checkRejected: (req) => call('checkRejected', 'retire', req, (r) => rotator.checkRejected(r), (r: CheckRejectedResponse) => (r.detail === undefined ? r : { ...r, detail: redact(r.detail) })),
    close: () => rotator.close(),
  };
  // Optional capabilities stay optional: the engine tests for their presence.
  if (rotator.forConsumers) wrapped.forConsumers = (req) => rotator.forConsumers!(req);
  if (rotator.adoptValue) wrapped.adoptValue = (req) => call('adoptValue', 'create', req, (r) => rotator.adoptValue!(r), same);
  return wrapped;
}

/** The same error, its message and hint redacted (its class and fields kept). */
function redactError(err: unknown, redact: (text: string) => string): unknown {
  if (!(err instanceof Error)) return new Error(redact(String(err)));
  const message = redact(err.message);
  if (message !== err.message) {
    if (err.stack) err.stack = err.stack.split(err.message).join(message);
    err.message = message;
  }
  if (err instanceof RotorError && err.hint) (err as { hint: string | undefined }).hint = redact(err.hint);
  return err;
}
