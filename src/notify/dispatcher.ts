/**
 * The daemon's one entry to notifications: `emit` hands a notification to every notifier
 * whose `events` name it and returns at once. Delivery happens behind it, per notifier
 * (lane.ts): redacted first (redact.ts), then sent, retried with exponential backoff, and
 * finally reported through `onDelivered` or `onFailed`. A failing notifier never blocks a
 * rotation and never stops another notifier (SPEC, "The daemon").
 *
 * @example
 * const notifications = new Notifications(config.notify, { redact, onFailed: (name, n, err, willRetry) => log.warn(...) });
 * notifications.emit({ event: 'secret.overdue', at: Date.now(), secretId: 'database/primary', ... });
 * await notifications.drain(5_000); // on SIGTERM
 * await notifications.close();
 */
import { NotifyError, notifierLabel } from './errors.js';
import { Lane, type RetryPolicy } from './lane.js';
import { redactNotification, withheld } from './redact.js';
import { createNotifier, type NotifierConfig } from './registry.js';
import type { Notification } from './types.js';

export interface NotificationsOptions {
  /** applied to every string of every notification before any notifier sees it */
  redact: (text: string) => string;
  onDelivered?: (name: string, n: Notification) => void;
  /** `err` names the notifier and the failure, never its URL, key or password */
  onFailed?: (name: string, n: Notification, err: Error, willRetry: boolean) => void;
  /** default 5 attempts, 1 s doubling, capped at 60 s */
  retry?: RetryPolicy;
  /** per HTTP request or SMTP exchange; default 10 s */
  timeoutMs?: number;
  /** per notifier; past it the oldest queued notification is dropped (and reported); default 1000 */
  maxQueue?: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialMs: 1_000, maxMs: 60_000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_QUEUE = 1_000;

export class Notifications {
  private readonly lanes = new Map<string, Lane>();
  private readonly redact: (text: string) => string;
  private readonly onFailed: (name: string, n: Notification, err: Error, willRetry: boolean) => void;
  private closing: Promise<void> | null = null;

  constructor(configs: Record<string, NotifierConfig>, opts: NotificationsOptions) {
    this.redact = opts.redact;
    const onDelivered = guarded(opts.onDelivered);
    this.onFailed = guarded(opts.onFailed);
    const retry = { ...DEFAULT_RETRY, ...opts.retry };
    retry.attempts = Math.max(1, Math.floor(retry.attempts));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (const [name, config] of Object.entries(configs)) {
      const lane = new Lane({
        name,
        label: notifierLabel(config.type, name),
        notifier: createNotifier({ name, config, timeoutMs }),
        events: config.events,
        retry,
        timeoutMs,
        maxQueue: opts.maxQueue ?? DEFAULT_MAX_QUEUE,
        onDelivered: (n) => onDelivered(name, n),
        onFailed: (n, err, willRetry) => this.onFailed(name, n, err, willRetry),
      });
      this.lanes.set(name, lane);
    }
  }

  /** Queues `n` for every notifier whose `events` include `n.event`. Never throws, never waits. */
  emit(n: Notification): void {
    const lanes = [...this.lanes].filter(([, lane]) => lane.accepts(n.event));
    if (lanes.length === 0) return;
    let redacted: Notification;
    try {
      redacted = redactNotification(n, this.redact);
    } catch {
      // Nothing unredacted may leave, not even towards a log: report the event alone.
      for (const [name] of lanes) {
        this.onFailed(name, withheld(n), new NotifyError(name, `notifier \`${name}\`: redaction failed; notification dropped`, { retryable: false }), false);
      }
      return;
    }
    for (const [, lane] of lanes) lane.push(redacted);
  }

  /** Waits until every queued notification is delivered or given up, or `timeoutMs` passed. Never rejects. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([Promise.all([...this.lanes.values()].map((lane) => lane.idle())), timeout]);
    } catch {
      // lanes never reject; nothing to add at shutdown if one did
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every notifier: in-flight attempts are aborted, queued notifications reported dropped. */
  close(): Promise<void> {
    this.closing ??= Promise.allSettled([...this.lanes.values()].map((lane) => lane.close())).then(() => undefined);
    return this.closing;
  }
}

/** A callback that cannot break the delivery loop by throwing. */
function guarded<A extends unknown[]>(fn: ((...args: A) => void) | undefined): (...args: A) => void {
  return (...args) => {
    try {
      fn?.(...args);
    } catch {
      // The daemon's logging failed; delivery goes on regardless.
    }
  };
}
