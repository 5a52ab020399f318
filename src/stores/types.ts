/**
 * Version stores: where Rotor keeps every version of a secret (the local vault; later AWS
 * Secrets Manager and Vault KV). A secret's `store` must name one. Where consumers read
 * the one value in use (.env and config files; later Kubernetes Secrets) is a delivery
 * target, with an interface of its own (delivery/types.ts), so neither has to stub what it
 * cannot do. rotor.yaml lists both under `stores:`, told apart by `type`.
 */
import type { z } from 'zod';
import type { Stage } from '../state/types.js';

export interface PutVersionRequest {
  secretId: string;
  version: number;
  /**
   * The rotation that stores it. A stored version is bound to its rotation: a later
   * rotation with the same version number (after an older state was restored by hand)
   * can neither read it as its own nor be given it.
   */
  rotationId: string;
  /** The serialized value; stores encrypt it (or rely on their service to). */
  plaintext: string;
}

export interface GetVersionRequest {
  secretId: string;
  version: number;
  rotationId: string;
  /**
   * Only a value this rotation stored. Without it, a store may also return a version an
   * older Rotor stored before versions were bound to rotations.
   */
  exact?: boolean;
}

export interface VersionStore {
  readonly kind: string;
  /**
   * Durably stores a version before Rotor acts on it. Idempotent: storing the same
   * version again with the same plaintext succeeds; with a different plaintext it throws,
   * because a stored version is never overwritten.
   */
  putVersion(req: PutVersionRequest): Promise<void>;
  /** The plaintext of a version, or undefined when the store does not hold it. */
  getVersion(req: GetVersionRequest): Promise<string | undefined>;
  /**
   * Optional: the value the store's service serves as current today, written by something
   * other than Rotor (a secret a team kept in Secrets Manager before moving it to Rotor), for
   * `rotor adopt --from-store`. Undefined when the service holds no such secret. Stores that
   * only hold what Rotor put there (the local vault) do not have it.
   */
  readCurrent?(secretId: string): Promise<CurrentValue | undefined>;
  close(): Promise<void>;
}

/** A value a store's service serves as current. */
export interface CurrentValue {
  plaintext: string;
  /** The service's id of that version (a Secrets Manager VersionId), for messages. */
  versionId: string;
  /** How messages name where it was read: "AWSCURRENT of prod/app/key". */
  source: string;
}

/** A version as the state store stages it. */
export interface StagedVersion {
  version: number;
  rotationId: string;
  stage: Stage;
}

export interface SyncStagesRequest {
  secretId: string;
  /**
   * The versions Rotor stages pending, current or previous. Every other version, Rotor's
   * or not, holds none of those stages in the store afterwards.
   */
  versions: StagedVersion[];
  /**
   * Every other version Rotor wrote for the secret (retired, failed): a label found on one
   * of these is Rotor's own left behind (AWSPREVIOUS that Secrets Manager moved onto the
   * version being retired), not another rotation's.
   */
  retired?: { version: number; rotationId: string }[];
  /**
   * The service's version whose value `rotor adopt --from-store` just took over as Rotor's
   * version: its labels move to Rotor's like any foreign version's, but the record says why.
   */
  adopted?: string;
}

export interface SyncStagesResponse {
  /** What was changed that Rotor did not put there (a label another rotation left), one line each; never values. */
  foreign: string[];
  /**
   * What the step's record and outcome should warn about although nothing failed (a
   * replica region that does not serve the new current value yet); never values.
   */
  warnings?: string[];
}

/**
 * A version store whose service shows which version is live to readers outside Rotor
 * (Secrets Manager's staging labels, read by apps and External Secrets). Rotor's state
 * store stays the record of stages; the engine mirrors it here after every change of
 * stages (engine/stage-mirror.ts). A capability of its own, so stores without labels stub
 * nothing.
 */
export interface StagedVersionStore extends VersionStore {
  /**
   * Makes the service's stages match `versions`. Idempotent: a second call with the same
   * request changes nothing. A version the store does not hold is skipped. A stage the
   * service insists on keeping (Secrets Manager's AWSCURRENT, once set) stays where it is
   * when Rotor stages no version so.
   */
  syncStages(req: SyncStagesRequest): Promise<SyncStagesResponse>;
  /**
   * Checks, before a rotation creates anything, that the store will let Rotor write this
   * secret's versions; throws a RotorError with outcome `usage` (refused, nothing touched)
   * naming what to grant.
   */
  preflight(req: { secretId: string }): Promise<void>;
}

export function isStagedVersionStore(store: VersionStore): store is StagedVersionStore {
  return 'syncStages' in store && typeof store.syncStages === 'function';
}

/** How a version store is opened. */
export interface VersionStoreOpenOptions {
  /** The key derived from the master key for stores that encrypt themselves. */
  key: Buffer;
  /**
   * `rotor init`: set up what does not exist yet (idempotent). Without it, a store that
   * was never set up, or was set up with another master key, throws.
   */
  create?: boolean;
  /**
   * The project's public id (the master key's id): a store shared with other Rotor projects
   * (one Secrets Manager account) marks what is this project's, and refuses what is another's.
   */
  project?: string;
}

/**
 * One kind of version store, keyed by its `type` in rotor.yaml (stores/registry.ts).
 *
 * @example
 * export const localVaultDefinition = { type: 'local', schema, open, … } satisfies VersionStoreDefinition<LocalVaultConfig>;
 */
export interface VersionStoreDefinition<Config extends { type: string }> {
  type: Config['type'];
  /** One line for docs and `rotor schema`. */
  summary: string;
  /** How messages name a store of this kind: "the local vault". */
  noun: string;
  /** Its entry under `stores`; `type` a literal, so the union of every kind picks the branch. */
  schema: z.ZodType<Config>;
  /**
   * Optional: which entries of this `type` are this kind's, when the type names both a
   * version store and a delivery target (aws-secrets-manager: an entry with `name` is one
   * secret to deliver into, one without keeps versions). Without it, every entry of the type.
   */
  owns?(entry: object): boolean;
  /** The config with its relative paths resolved against rotor.yaml's directory. */
  withPaths(config: Config, dir: string): Config;
  /** Optional: where the store keeps `secretId`'s versions (DeliveryTargetDefinition.placeOf). */
  placeOf?(config: Config, secretId: string): string;
  /** Opens the store; the implementation is imported here, so loading the config stays cheap. */
  open(config: Config, opts: VersionStoreOpenOptions): Promise<VersionStore>;
}
