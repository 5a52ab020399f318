/**
 * The SQLite state driver: one file on one host, shared by the processes on it. The
 * implementation (and better-sqlite3) loads only when a state is opened.
 *
 * @example
 * const state = await sqliteDriver.open({ driver: 'sqlite', path: '.rotor/state.db' }, { host: hostname() });
 */
import { existsSync } from 'node:fs';
import { NotFoundError } from '../../errors.js';
import type { StateDriver } from '../types.js';

export interface SqliteStateConfig {
  driver: 'sqlite';
  /** The database file (absolute once rotor.yaml is loaded). */
  path: string;
}

export const sqliteDriver = {
  async open(config, opts) {
    if (!opts.create && !existsSync(config.path)) {
      throw new NotFoundError(`no state database at ${config.path}`, 'run `rotor init` in this directory first');
    }
    const { SqliteStateStore } = await import('./store.js');
    return new SqliteStateStore({ path: config.path, mustExist: !opts.create, host: opts.host, leaseMs: opts.leaseMs, isAlive: opts.isAlive });
  },
} satisfies StateDriver<SqliteStateConfig>;
