/**
 * Every string of a notification through the daemon's redact function, before any
 * notifier sees it. Callers redact already; this is the second wall, because a
 * notification leaves the machine and a value in it could not be called back.
 */
import type { Notification } from './types.js';

export function redactNotification(n: Notification, redact: (text: string) => string): Notification {
  const r = (text: string | null) => (text === null ? null : redact(text));
  const out: Notification = {
    event: n.event,
    at: n.at,
    secretId: r(n.secretId),
    rotationId: r(n.rotationId),
    step: r(n.step),
    error: r(n.error),
    hint: r(n.hint),
    incident: r(n.incident),
    summary: redact(n.summary),
  };
  if (n.details !== undefined) {
    out.details = Object.fromEntries(Object.entries(n.details).map(([key, value]) => [redact(key), typeof value === 'string' ? redact(value) : value]));
  }
  return out;
}

/** What callbacks are given when redaction itself failed: the event and time, no text. */
export function withheld(n: Notification): Notification {
  return {
    event: n.event,
    at: n.at,
    secretId: null,
    rotationId: null,
    step: null,
    error: null,
    hint: null,
    incident: null,
    summary: '(withheld: redaction failed)',
  };
}
