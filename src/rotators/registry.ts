/**
 * Every rotator type Rotor knows, in one place. Adding a type is one line here plus its
 * folder; config validation, `rotor plan` and the JSON Schema all read from this map.
 */
import { jwtDefinition } from './jwt-keyset/index.js';
import { keyringDefinition } from './keyring/index.js';
import { manualDefinition } from './manual/index.js';
import { mysqlDefinition } from './mysql-password/index.js';
import { postgresDefinition } from './postgres-password/index.js';
import { randomDefinition } from './random/index.js';
import { redisDefinition } from './redis-acl/index.js';
import type { AnyRotatorDefinition } from './types.js';

export const rotatorRegistry = {
  random: randomDefinition,
  'postgres-password': postgresDefinition,
  'mysql-password': mysqlDefinition,
  'redis-acl': redisDefinition,
  'jwt-keyset': jwtDefinition,
  keyring: keyringDefinition,
  manual: manualDefinition,
} as const satisfies Record<string, AnyRotatorDefinition>;

export type RotatorType = keyof typeof rotatorRegistry;

export const rotatorTypes = Object.keys(rotatorRegistry);

export function isRotatorType(type: string): type is RotatorType {
  return Object.hasOwn(rotatorRegistry, type);
}

/** The definition of `type`; config validation guarantees it exists for configured secrets. */
export function definitionOf(type: string): AnyRotatorDefinition {
  if (!isRotatorType(type)) throw new Error(`unknown rotator type ${type}`);
  return rotatorRegistry[type];
}
