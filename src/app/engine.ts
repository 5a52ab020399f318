/**
 * Opens what every use-case needs from rotor.yaml and the environment: the config (with its
 * warnings returned, not printed), the state store, the vault and the engine's dependencies.
 * Read-only use-cases open only the state store and never need the master key. The CLI and
 * the HTTP API both start here; neither prints nor exits from this layer.
 *
 * @example
 * const { config } = openConfig(undefined);
 * const outcomes = await withRunner(config, { signal }, (runner, engine) => …);
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { SealedDeliveryBackups } from '../backup/delivery-backups.js';
import { loadConfig } from '../config/load.js';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import { deriveKeys } from '../crypto/master-key.js';
import { masterKeyOf } from './master-key.js';
import type { EngineDeps, EngineEvent } from '../engine/context.js';
import { crashPointFrom } from '../engine/crash.js';
import { newRedactor } from '../engine/redact.js';
import { Runner } from '../engine/runner.js';
import { MasterKeyError, NotFoundError, type ConfigProblem } from '../errors.js';
import { definitionOf } from '../rotators/registry.js';
import { describeState as describeStateConfig, openStateStore, stateExists as stateConfigExists } from '../state/registry.js';
import type { LockOwner, StateStore } from '../state/types.js';
import { isVersionStoreConfig, openVersionStore } from '../stores/registry.js';
import type { VersionStore } from '../stores/types.js';

export function configPath(flag: string | undefined): string {
  return resolve(flag ?? process.env.ROTOR_CONFIG ?? 'rotor.yaml');
}

/**
 * Loads rotor.yaml; a bad file throws ConfigError with every problem. Warnings come back
 * for the caller to show (the CLI prints them to stderr; the daemon logs them).
 * @param readOnly the use-case never reaches a target (reads state, values or backups): unset `${VAR}`s are no error.
 */
export function openConfig(flag: string | undefined, opts: { readOnly?: boolean } = {}): { config: RotorConfig; warnings: ConfigProblem[] } {
  return loadConfig(configPath(flag), process.env, { unsetVarsAllowed: opts.readOnly });
}

/** The state store rotor.yaml names, through its driver; without `create`, a state that does not exist is a NotFoundError. */
export function openState(config: RotorConfig, opts: { create?: boolean } = {}): Promise<StateStore> {
  // ROTOR_LOCK_LEASE_MS: how long a rotation lock outlives a holder that stopped renewing it.
  const leaseMs = Number(process.env.ROTOR_LOCK_LEASE_MS) || undefined;
  return openStateStore(config.state, { create: opts.create, host: hostname(), leaseMs });
}

/** How messages name rotor.yaml's state, whatever its driver: a file's path, a database's address. */
export function describeState(config: RotorConfig): string {
  return describeStateConfig(config.state);
}

/** Whether rotor.yaml's state already exists (`rotor init` asks before it makes a master key). */
export function stateExists(config: RotorConfig): Promise<boolean> {
  return stateConfigExists(config.state);
}


export interface Engine {
  deps: EngineDeps;
  state: StateStore;
  /** The copies deliveries keep (deps.deliveryBackups), for `rotor backup files`. */
  backups: SealedDeliveryBackups;
  close(): Promise<void>;
}

/** How a caller watches and stops a use-case that runs rotations. */
export interface RunOptions {
  /** Every engine event (steps, rollbacks, finished secrets). */
  onEvent?: (e: EngineEvent) => void;
  /**
   * Aborted: the steps under way finish and are journaled, nothing new starts (the CLI
   * aborts it on SIGINT/SIGTERM, the daemon on shutdown).
   */
  signal?: AbortSignal;
  /** Who acts, for the audit log, when not this process's user (the daemon: `api:<token>`, `schedule`). */
  actor?: string;
}

/**
 * Opens the engine, gives `fn` a runner on it, and closes both however `fn` ends: the one
 * shape of every use-case that changes state.
 */
export async function withRunner<T>(
  config: RotorConfig, opts: RunOptions, fn: (runner: Runner, engine: Engine) => Promise<T>,
): Promise<T> {
  const engine = await openEngine(config, opts.onEvent, opts.actor);
  const runner = new Runner(engine.deps);
  const interrupt = () => runner.interrupt();
  if (opts.signal?.aborted) interrupt();
  opts.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    return await fn(runner, engine);
  } finally {
    opts.signal?.removeEventListener('abort', interrupt);
    await runner.close();
    await engine.close();
  }
}

/** Opens an engine for `fn` (no runner: reads, backups, audited reads) and closes it however `fn` ends. */
export async function withEngine<T>(config: RotorConfig, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine(config);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** Opens everything a rotation needs and checks the master key against the vault and the state. */
/**
 * @param owner who holds the locks this engine takes: a new, unique owner by default; the
 *   daemon passes its own, so the engine it opens on SIGHUP holds its daemon lock.
 */
export async function openEngine(config: RotorConfig, onEvent?: (e: EngineEvent) => void, actor?: string, owner?: LockOwner): Promise<Engine> {
  const keys = deriveKeys((await masterKeyOf(config)).key);
  const crash = crashPointFrom(process.env);
  const state = await openState(config);
  try {
    if (!(await state.checkKeyId(keys.keyId))) {
      throw new MasterKeyError(
        `the master key is not the one ${describeState(config)} was created with`,
        'use the original key (ROTOR_MASTER_KEY, ROTOR_MASTER_KEY_FILE or .rotor/master.key); nothing was changed',
      );
    }
    await state.useAuditKey(keys.audit);
    // Every version store, each through its kind's definition; delivery targets are opened
    // by the deliveries into them.
    const versionStores = new Map<string, VersionStore>();
    for (const [name, store] of Object.entries(config.stores)) {
      if (isVersionStoreConfig(store)) versionStores.set(name, await openVersionStore(store, { key: keys.vault, project: keys.keyId }));
    }
    const redactor = newRedactor(config);
    const backups = deliveryBackupsOf(config, keys.deliveryBackup);
    const deps: EngineDeps = {
      config,
      state,
      storeFor: (secret: SecretConfig): VersionStore => versionStores.get(secret.store)!,
      definitionOf: (secret) => definitionOf(secret.type),
      fingerprintKey: keys.fingerprint,
      deliveryBackups: backups,
      redactor,
      crash,
      actor: actor ?? actorName(),
      owner: owner ?? { id: `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`, pid: process.pid, host: hostname() },
      now: Date.now,
      onEvent,
    };
    return { deps, state, backups, close: () => state.close() };
  } catch (err) {
    await state.close();
    throw err;
  }
}

/** The sealed copies deliveries keep of the files they replace (`rotor backup files`). */
export function deliveryBackupsOf(config: RotorConfig, key: Buffer): SealedDeliveryBackups {
  return new SealedDeliveryBackups({ dir: deliveryBackupsDir(config), key, keep: config.deliveryBackups });
}

export function deliveryBackupsDir(config: RotorConfig): string {
  return join(config.dir, '.rotor', 'backups', 'files');
}

/** Who acts, for the audit log: ROTOR_ACTOR (set it in CI and the daemon), else user@host. */
export function actorName(): string {
  if (process.env.ROTOR_ACTOR) return process.env.ROTOR_ACTOR;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

/** The configured secrets named by `ids`, or a NotFoundError naming the unknown ones. */
export function selectSecrets(config: RotorConfig, ids: string[]): SecretConfig[] {
  const byId = new Map(config.secrets.map((s) => [s.id, s]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length) {
    throw new NotFoundError(`unknown secret${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, 'see `rotor status` for the ids in rotor.yaml');
  }
  return [...new Set(ids)].map((id) => byId.get(id)!);
}

/** An audit event with no secret, for use-cases that act on the whole state (backups). */
export function stateAudit(engine: Engine, action: string, detail: string) {
  return {
    kind: 'audit' as const,
    event: { at: Date.now(), actor: engine.deps.actor, action, secretId: null, version: null, rotationId: null, outcome: 'ok' as const, reason: null, incident: null, detail },
  };
}
