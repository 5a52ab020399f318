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
import { FIELD_PATH } from '../consumers/field-problem.js';
import { parseDuration } from './duration.js';

/** Which version a delivery takes. */
export const DELIVERED_STAGES = ['current', 'previous'] as const;

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

/** A duration that must be more than zero: a timeout of 0 would fail every step at once. */
const timeoutSchema = durationSchema.refine((s) => (parseDuration(s) ?? 0) > 0, 'a timeout must be longer than 0');

/** The steps whose rotator calls run under a timeout (engine/rotator-wrap.ts); propagate has its consumers' own. */
export const TIMED_STEPS = ['preflight', 'create', 'apply', 'verify', 'retire', 'rollback'] as const;
export type TimedStep = (typeof TIMED_STEPS)[number];

const timeoutsSchema = z
  .strictObject(Object.fromEntries(TIMED_STEPS.map((step) => [step, timeoutSchema.optional()])) as Record<TimedStep, z.ZodOptional<typeof timeoutSchema>>)
  .describe('per-step timeouts for this secret, e.g. { apply: 30s, verify: 1m }; each overrides defaults.stepTimeout. The step fails (and rolls back) when its target does not answer in time');

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
  consumers: z.array(name).max(100).default([]).describe('who uses the secret, in the order they are given a new value'),
  timeouts: timeoutsSchema.optional(),
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

/** Config files services read their secrets from: consumers deliver into them. */
const fileStoreSchema = z.strictObject({
  type: z.enum(['env-file', 'json', 'yaml']),
  path: z.string().min(1).max(4096).describe('the file, relative to rotor.yaml'),
});

export const storeSchema = z.union([localStoreSchema, fileStoreSchema]);

const timed = {
  timeout: durationSchema.default('30s').describe('give up on one attempt after this long'),
  retries: z.number().int().min(0).max(100).default(0).describe('attempts after the first'),
  interval: durationSchema.default('1s').describe('wait between attempts'),
};

const commandSchema = z
  .union([z.string().min(1).max(4096), z.array(z.string().max(4096)).min(1).max(100)])
  .describe('argv as a list (run without a shell), or one string (split on spaces, or run by /bin/sh with shell: true)');

const deliverSchema = z.union([
  z.strictObject({
    store: name.describe('a file store (env-file, json, yaml) under `stores`'),
    key: z.string().min(1).max(256).describe('variable name (env-file) or dot path (json, yaml)'),
    field: z
      .string()
      .min(1)
      .max(256)
      .regex(FIELD_PATH, 'names and list indexes separated by dots, like password or keys.0.kid')
      .optional()
      .describe(
        'the part of a structured value to deliver: a field (password), a dot path into it (keys.0.kid), or a view the type offers '
          + '(jwt-keyset HS256: secret, the signing key\'s shared secret as in its JWK `k`); checked against the type when the config loads. '
          + 'Without it a string value goes as is, a structured one as JSON',
      ),
    stage: z
      .enum(DELIVERED_STAGES)
      .default('current')
      .describe(
        'current: the value in use; previous: the value it replaced, while that is valid in its grace period, and an empty string when there is none '
          + '(first rotation, after retire) — for services that accept both, e.g. { key: JWT_PREVIOUS_SECRET, field: secret, stage: previous }',
      ),
    secret: secretIdSchema.optional().describe('the secret this delivery is for, when the consumer uses several'),
  }),
  z.strictObject({
    template: z
      .string()
      .min(1)
      .max(4096)
      .describe(
        'a file, relative to rotor.yaml, with placeholders checked when the config loads: {{ password }} or {{ keys.0.kid }} (what `field` takes), '
          + '{{ value }} (the whole value), and the same after `previous.` for the previous value in grace, an empty string when there is none: '
          + '{{ previous.password }}, {{ previous.value }}',
      ),
    to: z.string().min(1).max(4096).describe('the file to render into (atomic replace, 0600 backup of the old one)'),
    secret: secretIdSchema.optional().describe('the secret this template is for, when the consumer uses several'),
  }),
]);

const reloadSchema = z.union([
  z.strictObject({ command: commandSchema, shell: z.boolean().default(false), ...timed }),
  z.strictObject({ http: z.url(), method: z.enum(['GET', 'POST', 'PUT']).default('POST'), ...timed }),
  z.strictObject({
    signal: z.enum(['HUP', 'USR1', 'USR2', 'TERM', 'INT']),
    pid: z.number().int().min(2).optional(),
    pidfile: z.string().min(1).max(4096).optional(),
    user: z
      .union([z.string().min(1).max(64), z.number().int().min(0).max(2 ** 32 - 1)])
      .optional()
      .describe('the user (name or uid) the process must run as; without it, the owner of the pidfile'),
    ...timed,
  }),
]);

/** Compiled at load, so a typo is a config error (exit 2), not a failed rotation. */
const regexSchema = z.string().max(1000).refine((text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

const healthSchema = z.union([
  z.strictObject({ http: z.url(), status: z.number().int().min(100).max(599).default(200), body: regexSchema.optional().describe('a regular expression the body must match'), ...timed, retries: z.number().int().min(0).max(100).default(3) }),
  z.strictObject({ tcp: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'host:port').describe('host:port that must accept a connection'), ...timed, retries: z.number().int().min(0).max(100).default(3) }),
  z.strictObject({ command: commandSchema, shell: z.boolean().default(false), ...timed, retries: z.number().int().min(0).max(100).default(3) }),
]);

export const consumerSchema = z.strictObject({
  deliver: z.array(deliverSchema).max(100).default([]),
  reload: z.array(reloadSchema).max(20).default([]),
  health: z.array(healthSchema).max(20).default([]),
});

export type ConsumerConfig = z.infer<typeof consumerSchema>;
export type DeliverStep = z.infer<typeof deliverSchema>;
export type ReloadStep = z.infer<typeof reloadSchema>;
export type HealthStep = z.infer<typeof healthSchema>;

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
      stepTimeout: timeoutSchema
        .default('10m')
        .describe('how long one step may wait on its target (each rotator call of it) before the step fails and rolls back; a safety net against a hung server'),
      deliveryBackups: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(5)
        .describe('how many sealed copies of each file a delivery replaced are kept (`rotor backup files`); 0 keeps none'),
    })
    .default({ grace: '1h', concurrency: 32, stepTimeout: '10m', deliveryBackups: 5 }),
  targets: z.record(name, targetSchema).default({}),
  stores: z.record(name, storeSchema).default({}),
  consumers: z.record(name, consumerSchema).default({}),
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
  /** Names under `consumers`, in delivery order. */
  consumers: string[];
  description: string | undefined;
  /** The type-specific fields, validated by the rotator's own schema. */
  spec: unknown;
  /** `timeouts`, in ms: each overrides RotorConfig.stepTimeoutMs for that step. */
  timeoutsMs?: Partial<Record<TimedStep, number>>;
}

export interface RotorConfig {
  /** Absolute path of rotor.yaml. */
  file: string;
  /** Relative paths in the config resolve against this directory. */
  dir: string;
  state: { driver: 'sqlite'; path: string };
  concurrency: number;
  /** How many sealed copies of each file a delivery replaced are kept. */
  deliveryBackups: number;
  /** `defaults.stepTimeout` in ms; absent (configs built in tests) means the wrapper's default. */
  stepTimeoutMs?: number;
  targets: Record<string, TargetConfig>;
  stores: Record<string, StoreConfig>;
  consumers: Record<string, ConsumerConfig>;
  secrets: SecretConfig[];
  /** Environment variables the targets' admin URLs are built from: no hook command inherits them. */
  targetEnv: string[];
}
