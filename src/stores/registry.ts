/**
 * Every kind of version store, keyed by `type` under rotor.yaml's `stores`. Adding one
 * (AWS Secrets Manager, Vault KV) is its folder and one line here: the config schema, the
 * rules and `openVersionStore` all read from this map. Delivery targets, the other kind of
 * `stores` entry, have their own registry (delivery/registry.ts).
 *
 * @example
 * const store = await openVersionStore(config.stores.local, { key: keys.vault });
 */
import type { z } from 'zod';
import { secretsManagerStoreDefinition } from './aws-secrets-manager/index.js';
import { localVaultDefinition } from './local-vault/index.js';
import type { VersionStore, VersionStoreDefinition, VersionStoreOpenOptions } from './types.js';
import { namesOf, schemasOf } from '../registry.js';

const definitions = {
  local: localVaultDefinition,
  'aws-secrets-manager': secretsManagerStoreDefinition,
} as const;

type Definitions = typeof definitions;
export type VersionStoreType = keyof Definitions;
type ConfigOf = { [T in VersionStoreType]: z.output<Definitions[T]['schema']> };
/** A `stores` entry that is a version store. */
export type VersionStoreConfig = ConfigOf[VersionStoreType];

export const versionStores: { [T in VersionStoreType]: VersionStoreDefinition<ConfigOf[T]> } = definitions;

export const versionStoreTypes: readonly string[] = namesOf(versionStores);

/** Each kind's schema, for the `stores` union in config/schema.ts. */
export const versionStoreSchemas = schemasOf(definitions);

export function isVersionStoreType(type: string): type is VersionStoreType {
  return Object.hasOwn(versionStores, type);
}

/** Whether a `stores` entry is a version store: its type's, and the kind claims it (`owns`). */
export function isVersionStoreConfig(config: { type?: string | undefined }): config is VersionStoreConfig {
  if (config.type === undefined || !isVersionStoreType(config.type)) return false;
  const def: { owns?(entry: object): boolean } = versionStores[config.type];
  return def.owns?.(config) ?? true;
}

/** Opens the version store `config` describes with its kind's definition. */
export function openVersionStore<T extends VersionStoreType>(config: ConfigOf[T] & { type: T }, opts: VersionStoreOpenOptions): Promise<VersionStore> {
  return versionStores[config.type].open(config, opts);
}

/** `config` with its paths resolved against `dir`. */
export function versionStoreWithPaths<T extends VersionStoreType>(config: ConfigOf[T] & { type: T }, dir: string): ConfigOf[T] {
  return versionStores[config.type].withPaths(config, dir);
}
