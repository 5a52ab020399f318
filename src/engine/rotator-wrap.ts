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
import { MAX_TIMER_MS, type RotorConfig, type SecretConfig, type TimedStep } from '../config/schema.js';
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
  /** What the rotator itself may wait within a step (RotatorDefinition.waits): a default timeout covers it. */
  waits?: (spec: unknown) => Partial<Record<TimedStep, number>> | undefined;
  redactor?: Redactor;
  onCall?: (call: RotatorCall) => void;
}

/** A default timeout outlasts the rotator's own wait (a drain) by this much: the wait ends first, with its own message. */
const OWN_WAIT_MARGIN_MS = 60_000;

/**
 * After the timeout fires, how long the abandoned call may take to stop (a rotator that
 * honours the signal ends its statement on the server) before the step fails anyway: what
 * follows — the rollback's undo — must not race the statement it undoes.
 */
export const CUT_OFF_GRACE_MS = 10_000;

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
  const timeoutOf = (secretId: string, step: TimedStep): number => {
    const secret = secrets.get(secretId);
    const explicit = secret?.timeoutsMs?.[step];
    if (explicit !== undefined) return explicit; // config rules refuse one shorter than the rotator's own wait
    const base = opts.config.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    const own = secret ? opts.waits?.(secret.spec)?.[step] : undefined;
    return own ? Math.max(base, own + OWN_WAIT_MARGIN_MS) : base;
  };

  /** Runs one rotator method under the step's timeout, timed and redacted. */
  async function call<Req extends { secretId: string; signal: AbortSignal }, Res>(
    method: string, step: TimedStep, req: Req, fn: (req: Req) => Promise<Res>, clean: (res: Res) => Res,
  ): Promise<Res> {
    // Config refuses longer ones; a config built elsewhere (tests, the API) must not make a timer fire at once.
    const ms = Math.min(timeoutOf(req.secretId, step), MAX_TIMER_MS);
    // One controller per call, fed by the caller's signal through a listener:
    // AbortSignal.any would tie every call to the long-lived caller signal (Node keeps its
    // dependants until collected), which cost a 1,000-secret rotation a tenth of its time.
    const inner = new AbortController();
    const onOuter = () => inner.abort(req.signal.reason);
    if (req.signal.aborted) onOuter();
    else req.signal.addEventListener('abort', onOuter, { once: true });
    const started = performance.now();
    let ok = false;
    let handle: NodeJS.Timeout | undefined;
    try {
      const work = fn({ ...req, signal: inner.signal });
      const timedOut = new Promise<never>((_, reject) => {
        handle = setTimeout(() => {
          const err = new StepTimeoutError(step, ms, req.secretId);
          inner.abort(err);
          // The step fails once the abandoned call has stopped (a rotator that honours the
          // signal ends its statement on the server first), or after the grace if it does not.
          const grace = setTimeout(() => reject(err), CUT_OFF_GRACE_MS);
          grace.unref();
          work.then(() => {}, () => {}).finally(() => {
            clearTimeout(grace);
            reject(err);
          });
        }, ms);
        handle.unref();
      });
      // Until the timeout fires the call decides; after it, only the timeout does.
      const expired = () => inner.signal.reason instanceof StepTimeoutError;
      const res = await Promise.race([work.then((r) => (expired() ? timedOut : r), (e: unknown) => (expired() ? timedOut : Promise.reject(e))), timedOut]);
      ok = true;
      return clean(res);
    } catch (err) {
      const reason: unknown = inner.signal.reason;
      throw redactError(reason instanceof StepTimeoutError ? reason : err, redact);
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
