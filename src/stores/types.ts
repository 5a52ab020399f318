/**
 * Stores hold values. Two capabilities, split so that no store stubs what it cannot do:
 *
 * - `VersionStore` keeps every version of a secret (the local vault; later AWS Secrets
 *   Manager and Vault KV). A secret's `store` must be one.
 * - `KeyValueStore` holds one value under a key (an .env file, a config file, a
 *   Kubernetes Secret): where consumers are delivered to.
 */

export interface PutVersionRequest {
  secretId: string;
  version: number;
  /** The serialized value; stores encrypt it (or rely on their service to). */
  plaintext: string;
}

export interface GetVersionRequest {
  secretId: string;
  version: number;
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

export interface KeyValueStore {
  readonly kind: string;
  /** Writes `value` under `key`, keeping everything else as it was. Idempotent. */
  put(req: { key: string; value: string }): Promise<void>;
  get(req: { key: string }): Promise<string | undefined>;
}
