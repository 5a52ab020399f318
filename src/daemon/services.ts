/**
 * What the daemon's parts share: the running config (swapped on SIGHUP), the state view,
 * background runs, metrics, notifications and the log. The scheduler and the HTTP API are
 * both built on it and call the same use-cases (app/) as the CLI.
 */
import type { ProgressListener } from '../app/rotate.js';
import type { RotorConfig } from '../config/schema.js';
import type { Engine } from '../app/engine.js';
import type { Notification } from '../notify/types.js';
import type { Log } from './log.js';
import type { DaemonMetrics } from './metrics.js';
import type { Runs } from './runs.js';
import type { StateView } from './state-view.js';

export type NotificationInput = Pick<Notification, 'event' | 'summary'> & Partial<Omit<Notification, 'event' | 'summary'>>;

export interface DaemonServices {
  config: RotorConfig;
  /** The daemon's own engine: its state connection (reads, tokens, the daemon lock) and the vault (JWKS). */
  engine: Engine;
  view: StateView;
  runs: Runs;
  metrics: DaemonMetrics;
  log: Log;
  /** Aborted on SIGTERM: running steps finish and are journaled, nothing new starts. */
  shutdown: AbortSignal;
  /** Tells the notifiers (never throws, never waits). */
  notify(n: NotificationInput): void;
  /** A listener for one batch: logs every rotation's end, counts it, notifies failures. */
  progress(trigger: 'schedule' | 'api' | 'retire' | 'emergency'): ProgressListener;
}
