/**
 * The `local` version store: one encrypted file per version under `path` (see vault.ts).
 * The implementation loads only when a vault is opened.
 *
 * @example
 * const vault = await localVaultDefinition.open({ type: 'local', path: '/srv/.rotor/vault' }, { key });
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { pathSchema } from '../../config/common.js';
import type { VersionStoreDefinition } from '../types.js';

export const localVaultSchema = z
  .strictObject({
    type: z.literal('local'),
    path: pathSchema.default('.rotor/vault').describe('the vault directory, relative to rotor.yaml'),
  })
  .describe('local: a version store, every version encrypted in a directory on this host');

export type LocalVaultConfig = z.infer<typeof localVaultSchema>;

export const localVaultDefinition = {
  type: 'local',
  summary: 'every version encrypted with the master key, one file each, in a directory on this host',
  noun: 'the local vault',
  schema: localVaultSchema,
  withPaths: (config, dir) => ({ ...config, path: resolve(dir, config.path) }),
  async open(config, opts) {
    const { LocalVault } = await import('./vault.js');
    const vault = new LocalVault({ dir: config.path, key: opts.key });
    if (opts.create) await vault.initialize();
    else vault.checkKey();
    return vault;
  },
} satisfies VersionStoreDefinition<LocalVaultConfig>;
