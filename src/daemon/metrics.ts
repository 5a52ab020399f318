/**
 * `GET /metrics`: Prometheus text. Counters and the duration histogram live in prom-client;
 * the per-secret gauges (age, due, expiry, last success) are written straight from the
 * daemon's state view at scrape time — 10,000 secrets × 4 series through prom-client's
 * label maps would cost more than the scrape budget. Label values are bounded: secret ids
 * and types from rotor.yaml, fixed step, trigger and result names.
 *
 * Names match deploy/prometheus/rotor-rules.yaml and deploy/grafana/rotor-dashboard.json.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RotorConfig } from '../config/schema.js';
import type { OutcomeStatus } from '../engine/context.js';
import { dueAt } from '../app/due.js';
import { nextWindowOpen } from '../schedule/policy.js';
import type { Trigger } from '../state/types.js';
import type { StateView } from './state-view.js';

const TRIGGERS: Trigger[] = ['manual', 'schedule', 'emergency', 'api'];
// `grace`: rotated, the previous value still valid (retire follows); `succeeded`: retired at once.
const RESULTS: OutcomeStatus[] = ['succeeded', 'grace', 'rolled-back', 'failed', 'refused', 'not-started', 'busy', 'skipped', 'interrupted'];
const OPEN_STATUSES = ['running', 'grace', 'rolling-back'] as const;

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly rotations: Counter<'type' | 'trigger' | 'result'>;
  private readonly duration: Histogram<'type'>;
  private readonly notifyFailed: Counter<'notifier'>;
  private readonly ticks: Counter;
  private readonly tickSeconds: Gauge;

  constructor(private readonly view: StateView, private config: RotorConfig) {
    collectDefaultMetrics({ register: this.registry, prefix: 'rotor_' });
    this.rotations = new Counter({ name: 'rotor_rotations_total', help: 'Rotations the daemon ran, by type, trigger and result', labelNames: ['type', 'trigger', 'result'], registers: [this.registry] });
    this.duration = new Histogram({
      name: 'rotor_rotation_duration_seconds', help: 'Wall time of a rotation, create to propagate', labelNames: ['type'], registers: [this.registry],
      // Up to half an hour: consumer rollouts and health windows make rotations long.
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    });
    this.notifyFailed = new Counter({ name: 'rotor_notifications_failed_total', help: 'Notifications a notifier could not deliver (after retries)', labelNames: ['notifier'], registers: [this.registry] });
    this.ticks = new Counter({ name: 'rotor_scheduler_ticks_total', help: 'Scheduler ticks', registers: [this.registry] });
    this.tickSeconds = new Gauge({ name: 'rotor_scheduler_tick_seconds', help: 'How long the last scheduler tick took', registers: [this.registry] });
    this.zero(config);
  }

  /** Every label set starts at 0, so `increase()` in an alert sees the first failure of each. */
  private zero(config: RotorConfig): void {
    for (const type of new Set(config.secrets.map((s) => s.type))) {
      for (const trigger of TRIGGERS) for (const result of RESULTS) this.rotations.inc({ type, trigger, result }, 0);
    }
  }

  useConfig(config: RotorConfig): void {
    this.config = config;
    this.zero(config);
  }

  rotated(type: string, trigger: Trigger, result: OutcomeStatus, seconds: number | undefined): void {
    this.rotations.inc({ type, trigger, result });
    if (seconds !== undefined) this.duration.observe({ type }, seconds);
  }

  notificationFailed(notifier: string): void {
    this.notifyFailed.inc({ notifier });
  }

  tick(seconds: number): void {
    this.ticks.inc();
    this.tickSeconds.set(seconds);
  }

  async render(now: number): Promise<string> {
    return `${await this.registry.metrics()}${this.secretGauges(now)}`;
  }

  /** Each secret's label text, escaped once per config rather than once per scrape. */
  private labels: { of: RotorConfig; map: Map<string, { id: string; all: string }> } | undefined;
  private labelsOf(): Map<string, { id: string; all: string }> {
    if (this.labels?.of !== this.config) {
      const map = new Map(this.config.secrets.map((s) => {
        const id = label(s.id);
        return [s.id, { id, all: `secret=${id},type=${label(s.type)},priority=${label(s.priority)}` }];
      }));
      this.labels = { of: this.config, map };
    }
    return this.labels.map;
  }

  private secretGauges(now: number): string {
    const info: string[] = [];
    const age: string[] = [];
    const due: string[] = [];
    const expiry: string[] = [];
    const success: string[] = [];
    const labels = this.labelsOf();
    for (const s of this.config.secrets) {
      const sum = this.view.summaries.get(s.id);
      const { id, all } = labels.get(s.id)!;
      info.push(`rotor_secret_info{${all}} 1`);
      if (sum?.currentSince) age.push(`rotor_secret_age_seconds{${all}} ${((now - sum.currentSince) / 1000).toFixed(3)}`);
      const at = dueAt(s, sum);
      // The time it will really rotate: a window moves it (the overdue alert must not fire while it waits for one).
      if (at !== undefined) due.push(`rotor_secret_due_timestamp_seconds{secret=${id}} ${Math.floor(nextWindowOpen(s.window, at) / 1000)}`);
      if (sum?.currentExpiresAt) expiry.push(`rotor_secret_expiry_timestamp_seconds{secret=${id}} ${Math.floor(sum.currentExpiresAt / 1000)}`);
      if (sum?.currentSince) success.push(`rotor_last_success_timestamp_seconds{secret=${id}} ${Math.floor(sum.currentSince / 1000)}`);
    }
    const open: string[] = [];
    const oldest: string[] = [];
    for (const status of OPEN_STATUSES) {
      const rows = this.view.open.filter((r) => r.status === status);
      open.push(`rotor_rotations_open{status="${status}"} ${rows.length}`);
      const first = Math.min(...rows.map((r) => r.startedAt));
      oldest.push(`rotor_rotation_open_oldest_seconds{status="${status}"} ${rows.length ? ((now - first) / 1000).toFixed(3) : 0}`);
    }
    return [
      family('rotor_secret_info', 'One series per configured secret, rotated or not: its type and priority for alerts to join on', info),
      family('rotor_secret_age_seconds', 'Time since the current version was made', age),
      family('rotor_secret_due_timestamp_seconds', 'When the secret is due to rotate (unix seconds), its window considered', due),
      family('rotor_secret_expiry_timestamp_seconds', 'When the current value expires by itself (certificates)', expiry),
      family('rotor_last_success_timestamp_seconds', 'When the current version became current', success),
      family('rotor_rotations_open', 'Rotations not yet ended, by status', open),
      family('rotor_rotation_open_oldest_seconds', 'Age of the oldest open rotation, by status', oldest),
    ].join('');
  }
}

function family(name: string, help: string, lines: string[]): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${lines.length ? `${lines.join('\n')}\n` : ''}`;
}

/** A label value, quoted and escaped as the text format wants. */
function label(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
}
