/**
 * The state store: versions and their stages, rotations and their step records, locks and
 * the audit log. Only metadata lives here — values live in a store (stores/).
 *
 * Writes go through `commit(mutations)`: plain data applied in one transaction, so a step
 * record and the audit event that describes it are durable together or not at all. The
 * SQLite driver groups concurrent commits into one transaction (group commit); a
 * PostgreSQL driver can implement the same contract for several daemons at once.
 */
import type { z } from 'zod';

export const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
export type Step = (typeof STEPS)[number];
export type Stage = 'pending' | 'current' | 'previous' | 'retired' | 'failed';
export type Trigger = 'manual' | 'schedule' | 'emergency' | 'api';

/**
 * running: steps create…propagate under way; grace: live, waiting to retire previous;
 * rolling-back: undoing after a failure; succeeded; rolled-back (exit 1);
 * failed: could not be rolled back or retired, a person must look (exit 3).
 */
export type RotationStatus = 'running' | 'grace' | 'rolling-back' | 'succeeded' | 'rolled-back' | 'failed';
export type StepPhase = 'started' | 'done' | 'failed';

export interface VersionRow {
  secretId: string;
  version: number;
  stage: Stage;
  createdAt: number;
  stageChangedAt: number;
  rotationId: string;
  fingerprint: string;
  /** When the value stops working by itself (ms since epoch), e.g. a certificate's notAfter; null for values that never expire. */
  expiresAt: number | null;
}

export interface RotationRow {
  id: string;
  secretId: string;
  trigger: Trigger;
  reason: string | null;
  incident: string | null;
  actor: string;
  status: RotationStatus;
  fromVersion: number | null;
  toVersion: number;
  /** Grace chosen when the rotation started (0 with --no-grace or in an emergency). */
  graceMs: number;
  step: Step | null;
  phase: StepPhase | null;
  /** When previous may be retired (ms since epoch): grace counted from the end of propagate; null until then. */
  retireAfter: number | null;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

export interface StepRow {
  rotationId: string;
  step: Step | 'rollback';
  phase: StepPhase;
  at: number;
  detail: string | null;
}

export interface AuditInput {
  at: number;
  actor: string;
  action: string;
  secretId: string | null;
  version: number | null;
  rotationId: string | null;
  outcome: 'ok' | 'failed' | 'info';
  reason: string | null;
  incident: string | null;
  detail: string | null;
}

export interface AuditEvent extends AuditInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * A rotation lock is a lease: its holder renews it while it works, and it expires when the
 * holder stops renewing (it died, or its container was replaced under a new hostname).
 * It belongs to one process run (`ownerId`), never to a pid and hostname, which are reused.
 */
export interface LockRow {
  secretId: string;
  rotationId: string | null;
  ownerId: string;
  /** Who holds it, for people: never used to decide ownership. */
  pid: number;
  host: string;
  acquiredAt: number;
  expiresAt: number;
  /** Set by `locks()`: its holder is gone (see acquireLocks), so the next taker may take it. */
  stale?: boolean;
}

/**
 * One change to the state. A commit applies its mutations in order, all or none.
 * `version.insert` of a version that exists is a no-op (a resumed create writes its row
 * again); `rotation.insert` of an id that exists fails the commit; `audit` needs the
 * audit key (`useAuditKey`) and appends after the chain's head as it is at commit time.
 */
export type Mutation =
  | { kind: 'rotation.insert'; row: RotationRow }
  | { kind: 'rotation.update'; id: string; set: Partial<Omit<RotationRow, 'id' | 'secretId'>> }
  | { kind: 'step'; row: StepRow }
  | { kind: 'version.insert'; row: VersionRow }
  | { kind: 'version.stage'; secretId: string; version: number; stage: Stage; at: number }
  | { kind: 'lock.release'; secretId: string; ownerId: string }
  | { kind: 'audit'; event: AuditInput }
  | { kind: 'token.insert'; row: TokenRow }
  | { kind: 'token.revoke'; id: string; at: number };

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * An API token of `rotor serve`. Only a hash of its secret part is kept: the token is
 * printed once, when it is made (app/tokens.ts).
 */
export interface TokenRow {
  /** Public, in the token itself (`rotor_<id>_<secret>`): how a request finds its row. */
  id: string;
  name: string;
  role: Role;
  /** SHA-256 of the secret part, hex. */
  hash: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export interface SecretSummary {
  secretId: string;
  currentVersion: number | null;
  /**
   * When the current value was made (its version's createdAt), not when it last became
   * current: a rollback to an old value must not make it young again (SPEC: due `interval`
   * after the current version was made).
   */
  currentSince: number | null;
  /** When the current value stops working by itself (a certificate's notAfter), or null. */
  currentExpiresAt: number | null;
  stageCounts: Partial<Record<Stage, number>>;
  lastRotation: Pick<RotationRow, 'id' | 'status' | 'startedAt' | 'finishedAt' | 'error'> | null;
}

export interface LockOwner {
  /** Unique to one process run. */
  id: string;
  pid: number;
  host: string;
}

/**
 * What a driver must do. Every method is async, so a store behind a network (PostgreSQL,
 * shared by several daemons) serves the same contract as a local file. A damaged store
 * surfaces as IntegrityError from whichever method finds it, never as a driver's own error.
 */
export interface StateStore {
  /**
   * Applies `mutations` in one transaction: durable together or not at all. Concurrent
   * commits may share a transaction (group commit), but one failing commit never fails
   * another: each resolves or rejects on its own.
   */
  commit(mutations: Mutation[]): Promise<void>;

  /**
   * Takes the rotation lock of each secret that is free: no lock, a lock of this owner, or
   * a stale one (its lease expired, or its holder's process is gone on this host). The
   * store renews the leases it holds until they are released. Returns the ids it could not
   * take with who holds them.
   */
  acquireLocks(secretIds: string[], owner: LockOwner): Promise<{ busy: Map<string, LockRow> }>;
  /** Releases `owner`'s locks on `secretIds`; a lock it does not hold is left alone, and is no error. */
  releaseLocks(secretIds: string[], owner: LockOwner): Promise<void>;
  /** Every lock held now, for `rotor status`. */
  locks(): Promise<LockRow[]>;
  /** Removes stale locks (see acquireLocks) of other owners; returns what it removed (`rotor resume`). */
  clearStaleLocks(owner: LockOwner): Promise<LockRow[]>;

  /** Every version of a secret, oldest first. */
  versions(secretId: string): Promise<VersionRow[]>;
  /** The versions staged current, previous or pending: what a rotation works with, whatever the history. */
  liveVersions(secretId: string): Promise<VersionRow[]>;
  version(secretId: string, version: number): Promise<VersionRow | undefined>;
  /** Every rotation of a secret, oldest first. */
  rotations(secretId: string): Promise<RotationRow[]>;
  rotation(id: string): Promise<RotationRow | undefined>;
  /** A rotation's step records in the order they were committed. */
  steps(rotationId: string): Promise<StepRow[]>;
  /** Rotations not yet ended (running, rolling-back, or in grace), of one secret or of all, oldest first. */
  openRotations(secretId?: string): Promise<RotationRow[]>;
  /** One summary per secret the state knows (by its versions or rotations). */
  summaries(): Promise<Map<string, SecretSummary>>;
  /** The highest version number a version row or a rotation has used (0 for none): the next rotation takes the one after. */
  maxVersion(secretId: string): Promise<number>;

  /**
   * The audit log from the event made at `since` (ms since epoch) on, in sequence order,
   * as stored: `verifyChain` judges it. Read lazily, so a long log never sits in memory.
   */
  auditEvents(since?: number): AsyncIterable<AuditEvent>;
  /**
   * Keys the audit chain with `key` (derived from the master key); needed before any audit
   * event is committed. Returns the first sequence number that carries a MAC (earlier ones
   * were written before the chain was keyed). Throws IntegrityError when that marker was
   * changed or made with another key.
   */
  useAuditKey(key: Buffer, opts?: { acceptLegacy?: boolean }): Promise<number>;
  /**
   * The last event the log recorded, from a record keyed like the chain (written with each
   * event); undefined before any keyed event. Throws IntegrityError when that record was
   * changed. A chain that verifies but ends before this head was cut at its end.
   */
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;

  /** Every API token, revoked ones too, oldest first. */
  tokens(): Promise<TokenRow[]>;
  /** The token with this id (the public part of the token), revoked or not. */
  token(id: string): Promise<TokenRow | undefined>;

  /**
   * A marker that changes whenever any process commits to the state: the daemon re-reads
   * what it caches (summaries, open rotations) only when it changed.
   */
  changeMarker(): Promise<string>;

  /** Remembers the key id on first use; afterwards, false when another master key is in use. */
  checkKeyId(keyId: string): Promise<boolean>;

  /**
   * Checks the structure of the whole store, for after a crash (`rotor resume`) and before
   * trusting the audit log (`rotor audit verify`); throws IntegrityError when it is damaged.
   * Its cost may grow with the store.
   */
  integrityCheck(): Promise<void>;

  /** Lands the commits already made, stops renewing leases (the locks stay, and expire) and lets go of the store. */
  close(): Promise<void>;
}

/** How every driver is opened, besides its own part of rotor.yaml's `state`. */
export interface StateOpenOptions {
  /** Create the state when it does not exist (`rotor init`); without it, a missing state is a NotFoundError. */
  create?: boolean;
  /** This host's name: a lock of a process that is gone on this host is stale at once. */
  host: string;
  /** How long a lock lives without renewal (default 30 s). */
  leaseMs?: number;
  /** Whether a process of this host still runs; tests replace it. */
  isAlive?: (pid: number) => boolean;
}

/**
 * A state driver, keyed by its `driver` in rotor.yaml (state/registry.ts): its part of
 * `state`, how its paths resolve, how messages name it, and how it opens (and migrates)
 * the state that `config` names.
 *
 * @example
 * export const sqliteDriver = { driver: 'sqlite', schema, withPaths, describe, open } satisfies StateDriver<SqliteStateConfig>;
 */
export interface StateDriver<Config extends { driver: string }> {
  driver: Config['driver'];
  /** One line for docs and `rotor schema`. */
  summary: string;
  /** Its `state` section; `driver` a literal, so the union of every driver picks the branch. */
  schema: z.ZodType<Config>;
  /** The config with its relative paths resolved against rotor.yaml's directory. */
  withPaths(config: Config, dir: string): Config;
  /** How messages name this state: "the SQLite database /srv/.rotor/state.db". */
  describe(config: Config): string;
  /**
   * Whether state already exists there, without opening or creating it (`rotor init`
   * refuses to make a new master key for existing data).
   */
  exists(config: Config): boolean | Promise<boolean>;
  /** Opens the state; the implementation is imported here, so loading the config stays cheap. */
  open(config: Config, opts: StateOpenOptions): Promise<StateStore>;
}
