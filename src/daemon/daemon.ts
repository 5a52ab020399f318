/**
 * `rotor serve`: the daemon's life. It opens the engine (the master key is checked once),
 * takes the state's daemon lock (one daemon per embedded state), resumes what a crash left
 * open, then runs the schedule and serves HTTP until SIGTERM or SIGINT.
 *
 * - SIGHUP re-reads rotor.yaml: a bad file is logged and refused, the running config kept.
 * - SIGTERM: no new work; running steps finish and are journaled (the engine's interrupt),
 *   and the process exits 0 within `serve.shutdownTimeout`. What did not finish is resumed
 *   at the next start.
 */
import { describeState, openConfig as loadConfigFile, openEngine, type Engine } from '../app/engine.js';
import { resumeOpenRotations } from '../app/resume.js';
import type { ProgressListener } from '../app/rotate.js';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import type { EngineEvent, RotationOutcome } from '../engine/context.js';
import { parseListen } from '../config/common.js';
import { describeError, UsageError } from '../errors.js';
import { Notifications } from '../notify/dispatcher.js';
import type { Notification, NotifyEvent } from '../notify/types.js';
import type { Trigger } from '../state/types.js';
import { startHttp, type HttpServer } from '../http/server.js';
import { readTls } from '../http/tls.js';
import { daemonLog, type Log } from './log.js';
import { DaemonMetrics } from './metrics.js';
import { Runs } from './runs.js';
import { Scheduler } from './scheduler.js';
import type { DaemonServices, NotificationInput } from './services.js';
import { StateView } from './state-view.js';

/** The daemon lock's row in the state's lock table: not a secret id (ids have no colon). */
export const DAEMON_LOCK = 'rotor:serve';

export interface DaemonOptions {
  config: RotorConfig;
  configFlag: string | undefined;
  /** `--listen`, over `serve.listen`. */
  listen?: string;
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const config = withListen(opts.config, opts.listen);
  // Unreadable TLS files stop the start before anything opens or resumes.
  const tls = config.serve.tls ? readTls(config.serve.tls) : undefined;
  const engine = await openEngine(config);
  // The redactor of the engine in use: SIGHUP opens a new one, with the new config's credentials pinned.
  const running: { daemon?: Daemon } = {};
  const redact = (s: string) => (running.daemon?.engine ?? engine).deps.redactor?.redact(s) ?? s;
  const log = daemonLog({ redact });
  const daemon = new Daemon(config, engine, log, opts.configFlag, opts.listen, tls);
  running.daemon = daemon;
  try {
    await daemon.start();
  } catch (err) {
    await daemon.stop('start failed').catch(() => {});
    throw err;
  }
  const code = await daemon.done;
  // Steps still running at the shutdown timeout are journaled (the next start resumes them);
  // waiting for the event loop to drain would wait for them, and the exit would not be bounded.
  if (daemon.abandoned) process.exit(code);
  return code;
}

class Daemon {
  private readonly shutdownController = new AbortController();
  private scheduler!: Scheduler;
  private http: HttpServer | undefined;
  private notifications: Notifications;
  private readonly svc: DaemonServices;
  private finish!: (code: number) => void;
  readonly done = new Promise<number>((r) => {
    this.finish = r;
  });
  private stopping = false;
  private locked = false;
  /** Stopped with work still running at the shutdown timeout. */
  abandoned = false;

  constructor(config: RotorConfig, engine: Engine, private readonly log: Log, private readonly configFlag: string | undefined, private readonly listen: string | undefined,
    private readonly tls: { cert: Buffer; key: Buffer } | undefined) {
    const view = new StateView(engine.state);
    this.notifications = this.notificationsFor(config);
    const svc: DaemonServices = {
      config, engine, view, log,
      runs: new Runs(),
      metrics: new DaemonMetrics(view, config),
      shutdown: this.shutdownController.signal,
      notify: (n) => this.notify(n),
      progress: (trigger) => this.progress(trigger),
    };
    this.svc = svc;
  }

  get engine(): Engine {
    return this.svc.engine;
  }

  async start(): Promise<void> {
    const { svc, log } = this;
    const { config, engine } = svc;
    // Handlers first: a signal before them would take Node's default action (SIGTERM and
    // SIGHUP kill the process), and a supervisor may signal as soon as it sees daemon.ready.
    // What arrives while starting is acted on once the daemon is up.
    process.on('SIGHUP', this.onHup);
    process.on('SIGTERM', this.onTerm);
    process.on('SIGINT', this.onTerm);
    if (config.state.driver === 'sqlite') {
      const { busy } = await engine.state.acquireLocks([DAEMON_LOCK], engine.deps.owner);
      const holder = busy.get(DAEMON_LOCK);
      if (holder) {
        throw new UsageError(
          `another rotor serve (pid ${holder.pid} on ${holder.host}) already runs on this state`,
          'one daemon per state on the embedded default: stop the other first (its lock ends when it exits), or point this one at another rotor.yaml',
        );
      }
      this.locked = true;
    }
    await svc.view.refresh();
    log.info({ event: 'daemon.starting', secrets: config.secrets.length, state: config.state.driver }, 'rotor serve starting');

    const resumed = await resumeOpenRotations(config, { signal: svc.shutdown, actor: 'rotor serve (resume)' });
    if (resumed.outcomes.length) {
      log.info({ event: 'daemon.resumed', rotations: resumed.outcomes.length, outcomes: resumed.outcomes.map((o) => ({ secret: o.secretId, status: o.status })) }, `resumed ${resumed.outcomes.length} rotation(s) a crash left open`);
      for (const o of resumed.outcomes) this.finished(o, 'schedule', undefined);
    }

    this.http = await startHttp(svc, { ready: () => !this.stopping, tls: this.tls });
    this.scheduler = new Scheduler(svc);
    this.scheduler.start();
    if (!config.serve.tls && !isLoopback(config.serve.host)) {
      log.warn({ event: 'config.warning', listen: this.http.address }, 'serve listens beyond this host without serve.tls: bearer tokens cross the network in clear');
    }
    log.info({ event: 'daemon.ready', listen: this.http.address }, `rotor serve listening on ${this.http.address}`);
    this.starting = false;
    if (this.termWhileStarting) this.onTerm(this.termWhileStarting);
    else if (this.hupWhileStarting) this.onHup();
  }

  private starting = true;
  private termWhileStarting: NodeJS.Signals | undefined;
  private hupWhileStarting = false;

  private readonly onHup = () => {
    if (this.stopping) return; // reloading now would reopen what stop() closes
    if (this.starting) {
      this.hupWhileStarting = true;
      return;
    }
    void this.reload();
  };

  private readonly onTerm = (signal: NodeJS.Signals) => {
    if (this.starting) {
      // Resuming at start stops between steps, like any run; then the daemon stops.
      this.termWhileStarting ??= signal;
      this.shutdownController.abort(new Error(`rotor serve is stopping (${signal})`));
      return;
    }
    if (this.stopping) return;
    void this.stop(signal).then(() => this.finish(0), (err: unknown) => {
      this.log.error({ event: 'daemon.stop-failed', error: describeError(err) }, 'shutdown failed');
      this.finish(3);
    });
  };

  /** SIGHUP: the new rotor.yaml, or — when it is bad — the running one, kept. */
  async reload(): Promise<boolean> {
    const { svc, log } = this;
    let config: RotorConfig;
    try {
      const loaded = loadConfigFile(this.configFlag);
      config = withListen(loaded.config, this.listen);
      for (const w of loaded.warnings) log.warn({ event: 'config.warning', path: w.path, line: w.line, message: w.message }, 'rotor.yaml warning');
    } catch (err) {
      log.error({ event: 'config.refused', error: describeError(err), problems: (err as { problems?: unknown }).problems }, 'SIGHUP: rotor.yaml refused; the running configuration is kept');
      return false;
    }
    if (describeState(config) !== describeState(svc.config)) {
      // Another state is another daemon's to serve: this one's lock and open rotations are here.
      log.error({ event: 'config.refused', error: `state changed from ${describeState(svc.config)} to ${describeState(config)}` }, 'SIGHUP: `state` cannot change while the daemon runs; restart it to serve another state. The running configuration is kept');
      return false;
    }
    if (config.serve.host !== svc.config.serve.host || config.serve.port !== svc.config.serve.port || JSON.stringify(config.serve.tls) !== JSON.stringify(svc.config.serve.tls)) {
      log.warn({ event: 'config.restart-needed' }, 'serve.listen and serve.tls take effect at the next start');
    }
    let engine: Engine;
    try {
      engine = await openEngine(config, undefined, undefined, svc.engine.deps.owner);
    } catch (err) {
      log.error({ event: 'config.refused', error: describeError(err) }, 'SIGHUP: the new configuration cannot open the engine; the running one is kept');
      return false;
    }
    const old = svc.engine;
    svc.config = config;
    svc.engine = engine;
    svc.view.useState(engine.state);
    svc.metrics.useConfig(config);
    this.scheduler.useConfig(config);
    const oldNotifications = this.notifications;
    this.notifications = this.notificationsFor(config);
    void oldNotifications.drain(5_000).finally(() => oldNotifications.close());
    // The same owner, through the new engine's connection: it renews the daemon lock's lease
    // from now on (the old connection stops when it closes).
    if (this.locked) await engine.state.acquireLocks([DAEMON_LOCK], engine.deps.owner);
    await old.close();
    log.info({ event: 'config.reloaded', secrets: config.secrets.length }, 'SIGHUP: rotor.yaml reloaded');
    return true;
  }

  async stop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { svc, log } = this;
    log.info({ event: 'daemon.stopping', reason, running: svc.runs.size }, `stopping (${reason}): no new work; running steps finish`);
    this.scheduler?.stop();
    this.shutdownController.abort(new Error(`rotor serve is stopping (${reason})`));
    const settled = await svc.runs.idle(svc.config.serve.shutdownTimeoutMs);
    this.abandoned = !settled;
    if (!settled) log.warn({ event: 'daemon.stop-timeout', running: svc.runs.size }, 'steps still running at the shutdown timeout: they are journaled; the next start resumes them');
    await this.http?.close().catch(() => {});
    await this.notifications.drain(2_000).catch(() => {});
    await this.notifications.close().catch(() => {});
    if (this.locked) await svc.engine.state.releaseLocks([DAEMON_LOCK], svc.engine.deps.owner).catch(() => {});
    await svc.engine.close().catch(() => {});
    log.info({ event: 'daemon.stopped' }, 'rotor serve stopped');
    // The handlers stay until the process exits, doing nothing now: without them a SIGHUP or
    // SIGTERM while stopping or just after would take Node's default action and kill it.
  }

  private notificationsFor(config: RotorConfig): Notifications {
    return new Notifications(config.notify, {
      redact: (s) => this.svc?.engine.deps.redactor?.redact(s) ?? s,
      onFailed: (name, n, err, willRetry) => {
        this.log.warn({ event: 'notify.failed', notifier: name, notification: n.event, secret: n.secretId, error: err.message, willRetry }, `notifier ${name} failed`);
        if (!willRetry) this.svc.metrics.notificationFailed(name);
      },
    });
  }

  private notify(n: NotificationInput): void {
    const full: Notification = { at: Date.now(), secretId: null, rotationId: null, step: null, error: null, hint: null, incident: null, ...n };
    this.notifications.emit(full);
  }

  /** Logs, counts and notifies each rotation of a batch as it ends. */
  private progress(trigger: 'schedule' | 'api' | 'retire' | 'emergency'): ProgressListener {
    const startedAt = new Map<string, number>();
    return {
      onEvent: (e: EngineEvent) => {
        if (e.kind === 'step' && !startedAt.has(e.secretId)) startedAt.set(e.secretId, Date.now());
        if (e.kind === 'finished') {
          const t = startedAt.get(e.secretId);
          this.finished(e.outcome, trigger === 'retire' ? 'schedule' : trigger, t === undefined ? undefined : (Date.now() - t) / 1000, trigger === 'retire');
        }
      },
      end: () => {},
    };
  }

  private finished(o: RotationOutcome, trigger: Trigger, seconds: number | undefined, retire = false): void {
    const secret: SecretConfig | undefined = this.svc.config.secrets.find((s) => s.id === o.secretId);
    const fields = { event: retire ? 'retire.finished' : 'rotation.finished', secret: o.secretId, rotationId: o.rotationId, version: o.version, status: o.status, step: o.step, error: o.error, hint: o.hint, trigger };
    const ok = o.status === 'succeeded' || o.status === 'grace';
    if (ok) this.log.info(fields, `${o.secretId}: ${retire ? 'retired' : o.status}`);
    else this.log.warn(fields, `${o.secretId}: ${o.status}${o.step ? ` at ${o.step}` : ''}`);
    if (!retire) this.svc.metrics.rotated(secret?.type ?? 'unknown', trigger, o.status, seconds);
    const event = eventOf(o);
    if (!event) return;
    this.notify({
      event, secretId: o.secretId, rotationId: o.rotationId ?? null, step: o.step ?? null, error: o.error ?? null, hint: o.hint ?? null,
      summary: summaryOf(o, retire),
      details: { status: o.status, trigger, ...(secret ? { priority: secret.priority, type: secret.type } : {}) },
    });
  }
}

function eventOf(o: RotationOutcome): NotifyEvent | undefined {
  switch (o.status) {
    case 'succeeded':
    case 'grace':
      return 'rotation.succeeded';
    case 'rolled-back':
      return o.requested ? undefined : 'rotation.rolled-back';
    case 'failed':
      return 'rotation.needs-attention';
    case 'not-started':
    case 'refused':
    case 'skipped':
      return 'rotation.failed';
    default:
      return undefined; // busy: another holds it; interrupted: resumed at the next start
  }
}

function summaryOf(o: RotationOutcome, retire: boolean): string {
  const what = retire ? `retiring the previous value of ${o.secretId}` : `rotation of ${o.secretId}`;
  switch (o.status) {
    case 'succeeded':
    case 'grace':
      return `${what} succeeded${o.version ? ` (v${o.version})` : ''}`;
    case 'rolled-back':
      return `${what} failed${o.step ? ` at ${o.step}` : ''} and was rolled back; the previous value is in use`;
    case 'failed':
      return `${what} failed${o.step ? ` at ${o.step}` : ''} and could not be undone: a person must look`;
    case 'refused':
      return `${what} was refused before it started: the target cannot do what the secret asks`;
    case 'not-started':
      return `${what} could not start: the target did not answer; nothing changed`;
    default:
      return `${what}: ${o.status}`;
  }
}

function withListen(config: RotorConfig, listen: string | undefined): RotorConfig {
  if (listen === undefined) return config;
  const at = parseListen(listen);
  if (!at) throw new UsageError(`--listen ${listen}: expected HOST:PORT`, 'e.g. --listen 127.0.0.1:8200');
  return { ...config, serve: { ...config.serve, ...at } };
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);
