/**
 * What the daemon tells people, and the one interface every notifier kind implements.
 * A notification names a secret, a rotation, a step, an error and a hint; it never holds
 * a value (SPEC, "The daemon"). Each kind (slack.ts, pagerduty.ts, email.ts, webhook.ts)
 * turns a Notification into its receiver's format; the dispatcher (dispatcher.ts) owns
 * queueing, retries and redaction, so no kind repeats them.
 *
 * @example
 * notifications.emit({ event: 'rotation.failed', at: Date.now(), secretId: 'database/primary', rotationId: 'r-1',
 *   step: 'verify', error: 'login rejected', hint: 'check the consumer', incident: null,
 *   summary: 'rotation of database/primary failed at verify and was rolled back' });
 */
import type { z } from 'zod';

export const NOTIFY_EVENTS = [
  'rotation.failed',
  'rotation.rolled-back',
  'rotation.needs-attention',
  'rotation.succeeded',
  'secret.due-soon',
  'secret.overdue',
  'emergency.started',
  'emergency.finished',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface Notification {
  event: NotifyEvent;
  /** ms since epoch */
  at: number;
  secretId: string | null;
  rotationId: string | null;
  /** the failed step, when one failed */
  step: string | null;
  /** already redacted by the caller; the dispatcher still passes it through its redact function */
  error: string | null;
  /** what a person should do */
  hint: string | null;
  incident: string | null;
  /** one human line, e.g. "rotation of database/primary failed at verify and was rolled back" */
  summary: string;
  /** e.g. { dueAt: 1735689600000, priority: 'critical' } */
  details?: Record<string, string | number | boolean | null>;
}

/** One delivery attempt. */
export interface SendRequest {
  /** already redacted */
  notification: Notification;
  /** aborted when the attempt times out or the dispatcher closes */
  signal: AbortSignal;
  /** the same for every attempt of one notification, so receivers can drop duplicates */
  deliveryId: string;
}

/** `skipped`: nothing needed sending (a PagerDuty resolve for an alert never raised). */
export type SendResult = 'sent' | 'skipped';

/**
 * One configured notifier. `send` makes one attempt and throws a NotifyError
 * (errors.ts) that says whether another attempt may succeed. Its messages name the
 * notifier, never its URL, key or password.
 */
export interface Notifier {
  send(req: SendRequest): Promise<SendResult>;
  /** Frees connections; called once, after the last send. */
  close?(): Promise<void>;
}

export interface NotifierCreateOptions<C> {
  /** the key under `notify:` in rotor.yaml, used in every message */
  name: string;
  config: C;
  /** per attempt, for transports that take a timeout rather than a signal (SMTP) */
  timeoutMs: number;
}

/** A notifier kind: its config schema (the `notify:` union) and how to build one. */
export interface NotifierDefinition<C extends { type: string; events: readonly NotifyEvent[] }> {
  schema: z.ZodType<C>;
  create(opts: NotifierCreateOptions<C>): Notifier;
}
