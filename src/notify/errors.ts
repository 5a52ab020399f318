/**
 * Why a delivery failed, in words safe to log. The daemon logs these and counts them, so a
 * message names the notifier (`slack notifier \`team\``) and what went wrong (an HTTP
 * status, a timeout, an SMTP reply code), never its URL, routing key, password or signing
 * secret: a Slack webhook URL *is* a credential. That is also why these errors carry no
 * `cause`: a fetch or SMTP error can quote the address it failed on, and loggers print
 * causes. What the cause said is kept only as a short code (ECONNREFUSED, TimeoutError).
 */

export class NotifyError extends Error {
  /** the key under `notify:` */
  readonly notifier: string;
  /** whether another attempt may succeed (a 503 may; a 404 will not) */
  readonly retryable: boolean;
  /** what a person should do */
  readonly hint: string | undefined;
  /** the receiver asked to wait this long (Retry-After) */
  readonly retryAfterMs: number | undefined;

  constructor(notifier: string, message: string, opts: { retryable: boolean; hint?: string; retryAfterMs?: number }) {
    super(message);
    this.name = new.target.name;
    this.notifier = notifier;
    this.retryable = opts.retryable;
    this.hint = opts.hint;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** The notifier's queue was full, or it closed, before this notification went out. */
export class NotifyDroppedError extends NotifyError {
  constructor(notifier: string, message: string) {
    super(notifier, message, { retryable: false });
  }
}

/** How messages name a notifier: `slack notifier \`team\``. */
export function notifierLabel(type: string, name: string): string {
  return `${type} notifier \`${name}\``;
}

/**
 * A short, address-free word for a transport failure: a Node error code, or the error's
 * class name. Never its message, which may quote the URL.
 */
export function causeCode(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return err.name;
    const own = codeOf(err);
    if (own !== undefined) return own;
    const inner = codeOf(err.cause);
    if (inner !== undefined) return inner;
    return err.name;
  }
  return 'unknown error';
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = err.code;
  // Codes are words like ECONNREFUSED or UND_ERR_SOCKET; anything else is not a code.
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}
