/**
 * The schedule: each tick finds what is due — rotations past their interval or cron time
 * and inside their window, retires whose grace has ended, reminders ahead of due times —
 * and starts it in the background. Rotations due together go as one batch (a consumer
 * shared by several is reloaded once). A failed rotation backs off and is retried without
 * holding up any other secret; a secret already in a batch is not started again.
 *
 * A tick reads only the daemon's state view, which is re-read only when the state changed,
 * so it stays cheap at 10,000 secrets.
 */
import { dueAt } from '../app/due.js';
import { retireSecrets } from '../app/retire.js';
import { rotateSecrets } from '../app/rotate.js';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import type { RotationOutcome } from '../engine/context.js';
import { describeError } from '../errors.js';
import { inWindow } from '../schedule/policy.js';
import { Backoff } from './backoff.js';
import type { DaemonServices } from './services.js';

export interface TickResult {
  rotate: string[];
  retire: string[];
  reminded: string[];
}

export class Scheduler {
  private readonly busy = new Set<string>();
  private backoff: Backoff;
  /** Failed retires wait too: the previous value stays valid, and retrying each tick would hammer the target and page every second. */
  private retireBackoff: Backoff;
  /** Due times already reminded of / reported overdue, per secret, so each is told once. */
  private readonly reminded = new Map<string, number>();
  private readonly overdue = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly svc: DaemonServices) {
    this.backoff = new Backoff(svc.config.serve.retry);
    this.retireBackoff = new Backoff(svc.config.serve.retry);
  }

  useConfig(config: RotorConfig): void {
    // Keep what failed (a SIGHUP must not make a failing target be hammered), forget what is gone.
    const ids = new Set(config.secrets.map((s) => s.id));
    this.backoff = this.backoff.reconfigured(config.serve.retry);
    this.backoff.keepOnly(ids);
    this.retireBackoff = this.retireBackoff.reconfigured(config.serve.retry);
    this.retireBackoff.keepOnly(ids);
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      try {
        await this.tick(Date.now());
      } catch (err) {
        this.svc.log.error({ event: 'scheduler.error', error: describeError(err) }, 'the scheduler tick failed; it runs again at the next tick');
      }
      if (!this.stopped) this.timer = setTimeout(loop, this.svc.config.serve.tickMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** No new work after this; what runs goes on (Runs tracks it). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One pass over every secret at `now`: starts what is due, returns what it started. */
  async tick(now: number): Promise<TickResult> {
    const { view, config } = this.svc;
    const started = performance.now();
    await view.refresh();
    const rotate: SecretConfig[] = [];
    const reminded: string[] = [];
    const inGrace = new Map(view.open.filter((r) => r.status === 'grace').map((r) => [r.secretId, r]));
    const running = new Set(view.open.filter((r) => r.status !== 'grace').map((r) => r.secretId));
    for (const s of config.secrets) {
      if (this.busy.has(s.id) || running.has(s.id)) continue;
      const at = dueAt(s, view.summaries.get(s.id));
      if (at === undefined) continue;
      if (at > now) {
        if (s.remindMs !== undefined && now >= at - s.remindMs && this.reminded.get(s.id) !== at) {
          this.reminded.set(s.id, at);
          reminded.push(s.id);
          this.svc.notify({ event: 'secret.due-soon', secretId: s.id, summary: `${s.id} is due for rotation at ${new Date(at).toISOString()}`, details: { dueAt: at, priority: s.priority } });
        }
        continue;
      }
      if (this.backoff.waiting(s.id, now) || !inWindow(s.window, now)) continue;
      rotate.push(s);
    }
    const rotating = new Set(rotate.map((s) => s.id)); // a new rotation ends the grace itself
    const retire = config.secrets
      .filter((s) => !this.busy.has(s.id) && !rotating.has(s.id) && !this.retireBackoff.waiting(s.id, now) && (inGrace.get(s.id)?.retireAfter ?? Infinity) <= now)
      .map((s) => s.id);
    if (rotate.length) this.rotate(rotate);
    if (retire.length) this.retire(retire);
    this.svc.metrics.tick((performance.now() - started) / 1000);
    return { rotate: rotate.map((s) => s.id), retire, reminded };
  }

  private rotate(secrets: SecretConfig[]): void {
    const ids = secrets.map((s) => s.id);
    ids.forEach((id) => this.busy.add(id));
    const { svc } = this;
    svc.log.info({ event: 'schedule.rotate', secrets: ids.length <= 20 ? ids : ids.length }, `rotating ${ids.length} due secret${ids.length === 1 ? '' : 's'}`);
    const work = rotateSecrets({
      config: svc.config, select: { secrets }, trigger: 'schedule', reason: 'scheduled rotation', incident: null, noGrace: false,
      concurrency: undefined, signal: svc.shutdown, actor: 'rotor serve (schedule)', progress: () => svc.progress('schedule'),
    })
      // Judged against the state as the batch left it: a view read mid-rotation (a tick
      // during propagate) would show the new version as current and date the due time from it.
      .then(async ({ outcomes }) => {
        await svc.view.refreshNow().catch(() => {});
        outcomes.forEach((o) => this.judge(o));
      })
      .catch((err: unknown) => {
        svc.log.error({ event: 'schedule.error', secrets: ids.length <= 20 ? ids : ids.length, error: describeError(err) }, 'a scheduled batch could not run');
        for (const id of ids) this.backoff.failed(id, Date.now());
      })
      .finally(() => ids.forEach((id) => this.busy.delete(id)));
    svc.runs.track(work);
  }

  private retire(ids: string[]): void {
    ids.forEach((id) => this.busy.add(id));
    const { svc } = this;
    const work = retireSecrets({ config: svc.config, ids, force: false, signal: svc.shutdown, actor: 'rotor serve (schedule)', progress: () => svc.progress('retire') })
      .then(({ outcomes }) => {
        for (const o of outcomes) {
          if (o.status === 'succeeded') this.retireBackoff.succeeded(o.secretId);
          else if (o.status !== 'busy' && o.status !== 'interrupted') this.retireBackoff.failed(o.secretId, Date.now());
        }
      })
      .catch((err: unknown) => svc.log.error({ event: 'retire.error', error: describeError(err) }, 'a scheduled retire could not run'))
      .finally(() => ids.forEach((id) => this.busy.delete(id)));
    svc.runs.track(work);
  }

  /** Backs off a failed secret (and says so once per due time); forgets a succeeded one. */
  private judge(o: RotationOutcome): void {
    const now = Date.now();
    if (o.status === 'succeeded' || o.status === 'grace') {
      this.backoff.succeeded(o.secretId);
      this.overdue.delete(o.secretId);
      return;
    }
    if (o.status === 'busy' || o.status === 'interrupted') return; // someone else has it / resumed at the next start
    const retryAt = this.backoff.failed(o.secretId, now);
    this.svc.log.warn({ event: 'schedule.backoff', secret: o.secretId, status: o.status, retryAt: new Date(retryAt).toISOString(), attempts: this.backoff.attempts(o.secretId) }, `${o.secretId} will be tried again at ${new Date(retryAt).toISOString()}`);
    const secret = this.svc.config.secrets.find((s) => s.id === o.secretId);
    const at = secret ? dueAt(secret, this.svc.view.summaries.get(o.secretId)) : undefined;
    if (at !== undefined && this.overdue.get(o.secretId) !== at) {
      this.overdue.set(o.secretId, at);
      this.svc.notify({
        event: 'secret.overdue', secretId: o.secretId, rotationId: o.rotationId ?? null, error: o.error ?? null, hint: o.hint ?? null,
        summary: `${o.secretId} is overdue: its scheduled rotation ${o.status}; retrying at ${new Date(retryAt).toISOString()}`, details: { dueAt: at },
      });
    }
  }
}
