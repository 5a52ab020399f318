/**
 * Every state driver, keyed by `state.driver` in rotor.yaml. Adding one (PostgreSQL, so
 * that several daemons share one state) is its folder and one line here: the config
 * schema (`state` is the union of the drivers' schemas), path resolution, messages and
 * `openStateStore` all read from this map; callers see only the StateStore interface.
 *
 * @example
 * const state = await openStateStore(config.state, { host: hostname() });
 */
import type { z } from 'zod';
import { SQLITE_DEFAULT_PATH, sqliteDriver } from './sqlite/index.js';
import type { StateDriver, StateOpenOptions, StateStore } from './types.js';
import { namesOf, schemasOf } from '../registry.js';

const definitions = {
  sqlite: sqliteDriver,
} as const;

type Definitions = typeof definitions;
export type StateDriverName = keyof Definitions;
type ConfigOf = { [D in StateDriverName]: z.output<Definitions[D]['schema']> };
/** rotor.yaml's `state`: one driver's part of it. */
export type StateConfig = ConfigOf[StateDriverName];

export const stateDrivers: { [D in StateDriverName]: StateDriver<ConfigOf[D]> } = definitions;

export const stateDriverNames: readonly string[] = namesOf(stateDrivers);

/** Each driver's schema, for the `state` union in config/schema.ts (at least one: sqlite). */
export const stateSchemas = schemasOf(definitions);

/** `state` when rotor.yaml has none. */
export const defaultStateConfig: StateConfig = { driver: 'sqlite', path: SQLITE_DEFAULT_PATH };

/** Opens the state `config` names with its driver. */
export function openStateStore<D extends StateDriverName>(config: ConfigOf[D] & { driver: D }, opts: StateOpenOptions): Promise<StateStore> {
  return stateDrivers[config.driver].open(config, opts);
}

/** `config` with its paths resolved against `dir`. */
export function stateWithPaths<D extends StateDriverName>(config: ConfigOf[D] & { driver: D }, dir: string): ConfigOf[D] {
  return stateDrivers[config.driver].withPaths(config, dir);
}

/** How messages name the state `config` describes: a file's path, a database's address. */
export function describeState<D extends StateDriverName>(config: ConfigOf[D] & { driver: D }): string {
  return stateDrivers[config.driver].describe(config);
}

/** Whether the state `config` names already exists (nothing is opened or created). */
export function stateExists<D extends StateDriverName>(config: ConfigOf[D] & { driver: D }): Promise<boolean> {
  return Promise.resolve(stateDrivers[config.driver].exists(config));
}
