/**
 * The SQLite state driver: one file on one host, shared by the processes on it. Its part
 * of rotor.yaml (`state: { driver: sqlite, path }`) is defined here; the implementation
 * (and better-sqlite3) loads only when a state is opened.
 *
 * @example
 * const state = await sqliteDriver.open({ driver: 'sqlite', path: '.rotor/state.db' }, { host: hostname() });
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { pathSchema } from '../../config/common.js';
import { NotFoundError } from '../../errors.js';
import type { StateDriver } from '../types.js';

export const SQLITE_DEFAULT_PATH = '.rotor/state.db';

export const sqliteStateSchema = z
  .strictObject({
    driver: z.literal('sqlite').describe('sqlite: a file, one host'),
    path: pathSchema.default(SQLITE_DEFAULT_PATH).describe('the database file, relative to rotor.yaml'),
  })
  .describe('sqlite: the state in one database file, shared by the processes on this host');

export type SqliteStateConfig = z.infer<typeof sqliteStateSchema>;

export const sqliteDriver = {
  driver: 'sqlite',
  summary: 'one SQLite database file, shared by the processes on one host',
  schema: sqliteStateSchema,
  withPaths: (config, dir) => ({ ...config, path: resolve(dir, config.path) }),
  describe: (config) => config.path,
  exists: (config) => existsSync(config.path),
  async open(config, opts) {
    if (!opts.create && !existsSync(config.path)) {
      throw new NotFoundError(`no state database at ${config.path}`, 'run `rotor init` in this directory first');
    }
    const { SqliteStateStore } = await import('./store.js');
    return new SqliteStateStore({ path: config.path, mustExist: !opts.create, host: opts.host, leaseMs: opts.leaseMs, isAlive: opts.isAlive });
  },
} satisfies StateDriver<SqliteStateConfig>;
