/**
 * Version stores: where Rotor keeps every version of a secret (the local vault; later AWS
 * Secrets Manager and Vault KV). A secret's `store` must name one. Where consumers read
 * the one value in use (.env and config files; later Kubernetes Secrets) is a delivery
 * target, with an interface of its own (delivery/types.ts), so neither has to stub what it
 * cannot do. rotor.yaml lists both under `stores:`, told apart by `type`.
 */
import type { z } from 'zod';

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
  close(): Promise<void>;
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
  /** The config with its relative paths resolved against rotor.yaml's directory. */
  withPaths(config: Config, dir: string): Config;
  /** Opens the store; the implementation is imported here, so loading the config stays cheap. */
  open(config: Config, opts: VersionStoreOpenOptions): Promise<VersionStore>;
}
