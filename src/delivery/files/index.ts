/**
 * Config files as delivery targets, one `type` per format: `env-file`, `json`, `yaml`.
 * Each format is a pure edit (text in, text out, in its own file); file.ts does the safe
 * replace they share. Formats load only when a file is delivered into.
 *
 * @example
 * const target = await yamlFileTarget.open({ type: 'yaml', path: '/srv/app/config.yaml' });
 * await target.assign({ assignments: [{ key: 'database.password', value }] });
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { pathSchema } from '../../config/common.js';
import type { DeliveryTarget, DeliveryTargetDefinition } from '../types.js';
import type { FileFormat } from './types.js';

export interface FileTargetConfig<T extends string> {
  type: T;
  path: string;
}

function fileTarget<T extends string>(type: T, summary: string, format: () => Promise<FileFormat>): DeliveryTargetDefinition<FileTargetConfig<T>> {
  return {
    type,
    summary,
    noun: `a ${type} file`,
    schema: z
      .strictObject({
        type: z.literal(type),
        path: pathSchema.describe('the file, relative to rotor.yaml'),
      })
      .describe(`${type}: a delivery target, ${summary}`),
    withPaths: (config, dir) => ({ ...config, path: resolve(dir, config.path) }),
    async open(config): Promise<DeliveryTarget> {
      const [fmt, { assignInFile }] = await Promise.all([format(), import('./file.js')]);
      // Reads share one read of the file until the next assignment changes it.
      let text: Promise<string> | undefined;
      return {
        location: config.path,
        assign: async ({ assignments, backups }) => {
          text = undefined;
          return assignInFile(fmt, config.path, assignments, { backups });
        },
        read: async (key) => fmt.read(await (text ??= readFile(config.path, 'utf8')), key),
      };
    },
  };
}

export const envFileTarget = fileTarget('env-file', 'a .env file (dotenv, docker compose, systemd EnvironmentFile)', async () => (await import('./env-file.js')).envFile);
export const jsonFileTarget = fileTarget('json', 'a JSON config file, edited in place', async () => (await import('./json-file.js')).jsonFile);
export const yamlFileTarget = fileTarget('yaml', 'a YAML config file, edited in place', async () => (await import('./yaml-file.js')).yamlFile);
