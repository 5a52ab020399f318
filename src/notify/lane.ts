/**
 * One notifier's queue and the loop that empties it. Notifications go out one at a time
 * and in order, so a PagerDuty resolve never overtakes the trigger it resolves; a
 * notification being retried holds back the ones behind it, for at most its attempts.
 * The queue is bounded: when a receiver is down for long, the oldest notifications are
 * dropped (and reported), never the daemon's memory.
 */
import { randomUUID } from 'node:crypto';
import { NotifyDroppedError, NotifyError, causeCode } from './errors.js';
import type { Notification, Notifier, NotifyEvent } from './types.js';

export interface RetryPolicy {
  /** attempts in all, the first included */
  attempts: number;
  initialMs: number;
  maxMs: number;
}

export interface LaneOptions {
  name: string;
  /** e.g. "slack notifier `team`" */
  label: string;
  notifier: Notifier;
  events: readonly NotifyEvent[];
  retry: RetryPolicy;
  timeoutMs: number;
  maxQueue: number;
  onDelivered(n: Notification): void;
  onFailed(n: Notification, err: NotifyError, willRetry: boolean): void;
}

interface Item {
  notification: Notification;
  deliveryId: string;
}

/** The wait before attempt `attempt + 1`: doubling from initialMs, at least what the receiver asked, at most maxMs. */
export function backoffMs(retry: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  const doubled = retry.initialMs * 2 ** (attempt - 1);
  return Math.min(Math.max(doubled, retryAfterMs ?? 0), retry.maxMs);
}

export class Lane {
  private readonly queue: Item[] = [];
  private readonly events: ReadonlySet<NotifyEvent>;
  private running: Promise<void> | null = null;
  private attempt: AbortController | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(private readonly opts: LaneOptions) {
    this.events = new Set(opts.events);
  }

  accepts(event: NotifyEvent): boolean {
    return this.events.has(event);
  }

  /** Queues `n` and returns at once; the loop starts on a later tick. */
  push(n: Notification): void {
    if (this.closed) {
      this.opts.onFailed(n, new NotifyDroppedError(this.opts.name, `${this.opts.label}: closed; notification dropped`), false);
      return;
    }
    if (this.queue.length >= this.opts.maxQueue) {
      const oldest = this.queue.shift();
      if (oldest !== undefined) {
        const err = new NotifyDroppedError(this.opts.name, `${this.opts.label}: queue full (${this.opts.maxQueue}); oldest notification dropped`);
        this.opts.onFailed(oldest.notification, err, false);
      }
    }
    this.queue.push({ notification: n, deliveryId: randomUUID() });
    this.running ??= Promise.resolve()
      .then(() => this.run())
      // run() catches every failure of a send and the callbacks are guarded by the
      // dispatcher; this only keeps a bug from becoming an unhandled rejection.
      .catch(() => undefined)
      .finally(() => {
        this.running = null;
      });
  }

  /** Resolves when the queue is empty and nothing is in flight. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Stops: aborts the attempt in flight, skips any backoff, drops (and reports) what is queued. */
  async close(): Promise<void> {
    if (this.closed) return this.idle();
    this.closed = true;
    this.attempt?.abort(new DOMException('notifications closed', 'AbortError'));
    this.wake?.();
    await this.idle();
    for (const item of this.queue.splice(0)) {
      this.opts.onFailed(item.notification, new NotifyDroppedError(this.opts.name, `${this.opts.label}: closed before delivery; notification dropped`), false);
    }
    await this.opts.notifier.close?.();
  }

  private async run(): Promise<void> {
    // closed is checked before taking an item, so close() finds (and reports) every item not taken.
    while (!this.closed) {
      const item = this.queue.shift();
      if (item === undefined) return;
      await this.deliver(item);
    }
  }

  private async deliver(item: Item): Promise<void> {
    const { retry } = this.opts;
    for (let attempt = 1; ; attempt++) {
      let err: NotifyError;
      try {
        const result = await this.sendOnce(item);
        if (result === 'sent') this.opts.onDelivered(item.notification);
        return;
      } catch (thrown) {
        err = this.asNotifyError(thrown);
      }
      const willRetry = err.retryable && attempt < retry.attempts && !this.closed;
      this.opts.onFailed(item.notification, err, willRetry);
      if (!willRetry) return;
      await this.sleep(backoffMs(retry, attempt, err.retryAfterMs));
      if (this.closed) {
        const dropped = new NotifyDroppedError(this.opts.name, `${this.opts.label}: closed before delivery; notification dropped`);
        this.opts.onFailed(item.notification, dropped, false);
        return;
      }
    }
  }

  /**
   * One attempt under its own controller, aborted by its timer or by close(). (A bare
   * AbortSignal.timeout could not be cancelled by close().)
   */
  private async sendOnce(item: Item) {
    const controller = new AbortController();
    this.attempt = controller;
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${this.opts.timeoutMs} ms`, 'TimeoutError')), this.opts.timeoutMs);
    try {
      return await this.opts.notifier.send({ notification: item.notification, signal: controller.signal, deliveryId: item.deliveryId });
    } finally {
      clearTimeout(timer);
      this.attempt = null;
    }
  }

  /**
   * A kind that threw something other than a NotifyError is described by its code only
   * (see errors.ts). Kinds wrap every transport failure, so anything else is a bug or a
   * notification they cannot render (an invalid `at`): trying again would not help.
   */
  private asNotifyError(thrown: unknown): NotifyError {
    if (thrown instanceof NotifyError) return thrown;
    return new NotifyError(this.opts.name, `${this.opts.label}: failed (${causeCode(thrown)})`, { retryable: false });
  }

  /** A backoff wait that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
