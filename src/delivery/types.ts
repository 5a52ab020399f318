/**
 * Delivery targets: where a consumer reads the one value in use — a key in an `.env`, JSON
 * or YAML file (later a Kubernetes Secret, an AWS Secrets Manager secret, a Vault KV path).
 * Rotor sets keys in a target and leaves everything else in it alone. Version stores, where
 * Rotor keeps every version, are the other kind of `stores` entry (stores/types.ts); a
 * delivery target never holds more than the value it was last given.
 */
import type { z } from 'zod';
import type { DeliveryBackups } from '../fs/safe-replace.js';

export interface Assignment {
  /** env-file: a variable name; json/yaml: a dot path, e.g. `database.password`. */
  key: string;
  value: string;
}

export interface AssignRequest {
  /** Every key set in one write, in order. */
  assignments: Assignment[];
  /** Keeps (sealed) what the write replaced; without it none is kept. */
  backups?: DeliveryBackups;
}

export interface AssignResponse {
  /** False when every key already held its value (nothing was written). */
  changed: boolean;
  /** Where the value really went, when that is not `location` (a symlink's target). */
  real?: string;
}

export interface DeliveryTarget {
  /** What the user knows it by in messages: the file path, the secret's name. */
  readonly location: string;
  /**
   * Sets every assignment in one write; keys not assigned keep their values. Idempotent:
   * assigning what the target already holds changes nothing and answers `changed: false`.
   * Throws, leaving the target as it was, when it cannot (unparseable file, unsafe path).
   */
  assign(req: AssignRequest): Promise<AssignResponse>;
  /** The value at `key` now, or undefined (missing, unreadable): what redaction must cut. */
  read(key: string): Promise<string | undefined>;
}

/**
 * One kind of delivery target, keyed by its `type` in rotor.yaml (delivery/registry.ts).
 *
 * @example
 * export const envFileTarget = { type: 'env-file', schema, open, … } satisfies DeliveryTargetDefinition<FileTargetConfig<'env-file'>>;
 */
export interface DeliveryTargetDefinition<Config extends { type: string }> {
  type: Config['type'];
  /** One line for docs and `rotor schema`. */
  summary: string;
  /** How messages name a target of this kind: "a yaml file". */
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
  /** Opens the target; the implementation is imported here, so loading the config stays cheap. */
  open(config: Config): Promise<DeliveryTarget>;
  /**
   * Optional: what is wrong with the keys deliveries set in one target (a Kubernetes data key
   * with a slash; `a` and `a.b` both), checked when the config loads. `keys`: every key set
   * in this target, in order.
   */
  keyProblems?(keys: string[]): { key: string; message: string }[];
  /**
   * Optional: where the target is, in the words VersionStoreDefinition.placeOf uses, so a
   * delivery never writes over a secret a version store keeps its versions in.
   */
  placeOf?(config: Config): string;
  /**
   * Optional: proves, touching nothing, that Rotor may write this target (a Kubernetes
   * Secret's RBAC). Runs at `rotor plan` and before a rotation's `create`; throws a
   * RotorError whose outcome is `usage` for what a person must grant.
   */
  preflight?(config: Config): Promise<void>;
}
