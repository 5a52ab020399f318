/**
 * The shape of rotor.yaml. Validation happens once, here and in rules.ts; everything
 * after load.ts works with the plain, normalized `RotorConfig`.
 *
 * Type-specific secret fields (a random secret's `length`, a database secret's
 * `strategy`) live beside each rotator in rotators/<type>/schema.ts and are checked in a
 * second pass, so an unknown type gets its own clear message instead of a wall of union
 * errors.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

const name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . and -, starting with a letter or digit');

export const secretIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[a-z0-9][a-z0-9_.-]*(\/[a-z0-9][a-z0-9_.-]*)*$/,
    'lower-case path segments of letters, digits, _ . and - separated by /, like database/primary',
  );

export const durationSchema = z
  .string()
  .max(16)
  .refine((s) => parseDuration(s) !== undefined, 'not a duration: write it like 30s, 15m, 24h or 90d')
  .describe('a duration like 30s, 15m, 24h, 90d');

/** The fields every secret has, whatever its type. Type-specific fields pass through to pass two. */
export const secretCommonSchema = z.looseObject({
  id: secretIdSchema.describe('path-like id, e.g. database/primary'),
  type: z.string().min(1).max(40).describe('what kind of credential, which decides how it is rotated'),
  store: name.default('local').describe('where the versions of the value live'),
  target: name.optional().describe('the `targets` entry the rotator changes'),
  interval: durationSchema.optional().describe('rotate this often (by `rotor rotate --due` and the daemon)'),
  grace: durationSchema.optional().describe('how long the previous value stays valid after a rotation'),
  priority: z.enum(PRIORITIES).default('medium').describe('order in batch and emergency rotations'),
  after: z.array(secretIdSchema).max(100).default([]).describe('secrets that rotate before this one in a batch'),
  description: z.string().max(500).optional(),
});

const stateSchema = z
  .strictObject({
    driver: z.literal('sqlite').describe('sqlite: a file, one host'),
    path: z.string().min(1).max(4096).default('.rotor/state.db'),
  })
  .default({ driver: 'sqlite', path: '.rotor/state.db' });

const localStoreSchema = z.strictObject({
  type: z.literal('local'),
  path: z.string().min(1).max(4096).default('.rotor/vault'),
});

export const storeSchema = z.discriminatedUnion('type', [localStoreSchema]);

const targetSchema = z.strictObject({
  type: z.enum(['postgres', 'mysql', 'redis']),
  url: z.string().min(1).max(4096).describe('admin connection URL; use ${VAR} to keep credentials out of the file'),
});

export const configSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  state: stateSchema,
  defaults: z
    .strictObject({
      grace: durationSchema.default('1h'),
      concurrency: z.number().int().min(1).max(256).default(32),
    })
    .default({ grace: '1h', concurrency: 32 }),
  targets: z.record(name, targetSchema).default({}),
  stores: z.record(name, storeSchema).default({}),
  secrets: z.array(secretCommonSchema).max(100_000).default([]),
});

export type RawConfig = z.infer<typeof configSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;

export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** One secret after validation: plain data, durations in ms. */
export interface SecretConfig {
  id: string;
  type: string;
  store: string;
  target: string | undefined;
  intervalMs: number | undefined;
  graceMs: number;
  priority: Priority;
  after: string[];
  description: string | undefined;
  /** The type-specific fields, validated by the rotator's own schema. */
  spec: unknown;
}

export interface RotorConfig {
  /** Absolute path of rotor.yaml. */
  file: string;
  /** Relative paths in the config resolve against this directory. */
  dir: string;
  state: { driver: 'sqlite'; path: string };
  concurrency: number;
  targets: Record<string, TargetConfig>;
  stores: Record<string, StoreConfig>;
  secrets: SecretConfig[];
}
