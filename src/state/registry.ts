/**
 * Every state driver, keyed by `state.driver` in rotor.yaml. Adding one (PostgreSQL, so
 * that several daemons share one state) is its folder and one line here; callers see only
 * the StateStore interface.
 *
 * @example
 * const state = await openStateStore(config.state, { host: hostname() });
 */
import type { RotorConfig } from '../config/schema.js';
import { sqliteDriver } from './sqlite/index.js';
import type { StateDriver, StateOpenOptions, StateStore } from './types.js';

export type StateConfig = RotorConfig['state'];
export type StateDriverName = StateConfig['driver'];

/** Each driver's part of rotor.yaml's `state`, by driver name. */
type ConfigOf = { [C in StateConfig as C['driver']]: C };

export const stateDrivers: { [D in StateDriverName]: StateDriver<ConfigOf[D]> } = {
  sqlite: sqliteDriver,
};

/** Opens the state `config` names with its driver. */
export function openStateStore<D extends StateDriverName>(config: ConfigOf[D] & { driver: D }, opts: StateOpenOptions): Promise<StateStore> {
  return stateDrivers[config.driver].open(config, opts);
}
