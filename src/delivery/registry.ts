/**
 * Every kind of delivery target, keyed by `type` under rotor.yaml's `stores`. Adding one
 * (Kubernetes Secrets, AWS Secrets Manager, Vault KV) is its folder and one line here: the
 * config schema, the rules and `openDeliveryTarget` all read from this map. Version stores,
 * the other kind of `stores` entry, have their own registry (stores/registry.ts).
 *
 * @example
 * const target = await openDeliveryTarget(config.stores['app-env']);
 * await target.assign({ assignments: [{ key: 'API_KEY', value }] });
 */
import type { z } from 'zod';
import { secretsManagerTarget } from './aws-secrets-manager/index.js';
import { envFileTarget, jsonFileTarget, yamlFileTarget } from './files/index.js';
import { kubernetesTarget } from './kubernetes/index.js';
import type { DeliveryTarget, DeliveryTargetDefinition } from './types.js';
import { namesOf, schemasOf } from '../registry.js';

const definitions = {
  'env-file': envFileTarget,
  json: jsonFileTarget,
  yaml: yamlFileTarget,
  kubernetes: kubernetesTarget,
  'aws-secrets-manager': secretsManagerTarget,
} as const;

type Definitions = typeof definitions;
export type DeliveryTargetType = keyof Definitions;
type ConfigOf = { [T in DeliveryTargetType]: z.output<Definitions[T]['schema']> };
/** A `stores` entry that is a delivery target. */
export type DeliveryTargetConfig = ConfigOf[DeliveryTargetType];

export const deliveryTargets: { [T in DeliveryTargetType]: DeliveryTargetDefinition<ConfigOf[T]> } = definitions;

export const deliveryTargetTypes: readonly string[] = namesOf(deliveryTargets);

/** Each kind's schema, for the `stores` union in config/schema.ts. */
export const deliveryTargetSchemas = schemasOf(definitions);

export function isDeliveryTargetType(type: string): type is DeliveryTargetType {
  return Object.hasOwn(deliveryTargets, type);
}

/** Whether a `stores` entry is a delivery target: its type's, and the kind claims it (`owns`). */
export function isDeliveryTargetConfig(config: { type?: string | undefined }): config is DeliveryTargetConfig {
  if (config.type === undefined || !isDeliveryTargetType(config.type)) return false;
  const def: { owns?(entry: object): boolean } = deliveryTargets[config.type];
  return def.owns?.(config) ?? true;
}

/** Opens the delivery target `config` describes with its kind's definition. */
export function openDeliveryTarget<T extends DeliveryTargetType>(config: ConfigOf[T] & { type: T }): Promise<DeliveryTarget> {
  return deliveryTargets[config.type].open(config);
}

/** `config` with its paths resolved against `dir`. */
export function deliveryTargetWithPaths<T extends DeliveryTargetType>(config: ConfigOf[T] & { type: T }, dir: string): ConfigOf[T] {
  return deliveryTargets[config.type].withPaths(config, dir);
}

/** The kind's preflight (DeliveryTargetDefinition.preflight), when it has one. */
export async function preflightDeliveryTarget<T extends DeliveryTargetType>(config: ConfigOf[T] & { type: T }): Promise<void> {
  const def: DeliveryTargetDefinition<ConfigOf[T]> = deliveryTargets[config.type];
  await def.preflight?.(config);
}
