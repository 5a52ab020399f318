/**
 * Stores hold values. `VersionStore` keeps every version of a secret (the local vault;
 * later AWS Secrets Manager and Vault KV); a secret's `store` must be one. Stores that
 * hold a single value under a key (.env files, config files, Kubernetes Secrets: where
 * consumers are delivered to) will get an interface of their own, so that no store has to
 * stub what it cannot do.
 */

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
