/**
 * One JSON POST for the HTTP notifiers (Slack, PagerDuty, webhook), with the failure
 * turned into a NotifyError that says whether to try again: a network error, a timeout,
 * 408, 429 and 5xx may pass; any other answer will not change by repeating the request.
 */
import { NotifyError, causeCode } from './errors.js';

export interface PostRequest {
  /** how messages name the notifier, e.g. "slack notifier `team`" */
  label: string;
  name: string;
  url: string;
  body: string;
  headers?: Record<string, string>;
  signal: AbortSignal;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

/** POSTs `body`; resolves with the answer's text on 2xx, throws NotifyError otherwise. */
export async function postJson(req: PostRequest): Promise<string> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'rotor-notify', ...req.headers },
      body: req.body,
      signal: req.signal,
      redirect: 'error', // a redirect would resend the payload to an address nobody configured
    });
  } catch (err) {
    const code = causeCode(req.signal.aborted ? req.signal.reason : err);
    const what = code === 'TimeoutError' ? 'no answer in time' : `request failed (${code})`;
    throw new NotifyError(req.name, `${req.label}: ${what}`, { retryable: true, hint: 'check that the receiver is reachable from the daemon' });
  }
  // Read the answer even when unused so the connection is released to the pool.
  const text = await res.text().catch(() => '');
  if (res.ok) return text;
  const retryable = res.status >= 500 || RETRYABLE_STATUS.has(res.status);
  throw new NotifyError(req.name, `${req.label}: HTTP ${res.status}`, {
    retryable,
    hint: retryable ? 'the receiver failed; Rotor retries with backoff' : 'the receiver refused the request; check the notifier configuration',
    retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
  });
}

/** `Retry-After: <seconds>` as ms; the HTTP-date form is rare for these APIs and ignored. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}
