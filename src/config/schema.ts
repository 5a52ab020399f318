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
import { deliveryTargetSchemas, deliveryTargetTypes, type DeliveryTargetConfig } from '../delivery/registry.js';
import { healthSchemas } from '../consumers/health/registry.js';
import { reloadSchemas } from '../consumers/reload/registry.js';
import { defaultStateConfig, stateDriverNames, stateSchemas, type StateConfig } from '../state/registry.js';
import { versionStoreSchemas, versionStoreTypes, type VersionStoreConfig } from '../stores/registry.js';
import { durationSchema, nameSchema, secretIdSchema } from './common.js';
import { parseDuration } from './duration.js';

/** Which version a delivery takes. */
export const DELIVERED_STAGES = ['current', 'previous'] as const;

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

const name = nameSchema;

export { durationSchema, secretIdSchema };

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
  store: name.default('local').describe('the version store (a `stores` entry like `local`) that keeps every version of the value'),
  target: name.optional().describe('the `targets` entry the rotator changes'),
  interval: durationSchema.optional().describe('rotate this often (by `rotor rotate --due` and the daemon)'),
  grace: durationSchema.optional().describe('how long the previous value stays valid after a rotation'),
  priority: z.enum(PRIORITIES).default('medium').describe('order in batch and emergency rotations'),
  after: z.array(secretIdSchema).max(100).default([]).describe('secrets that rotate before this one in a batch'),
  consumers: z.array(name).max(100).default([]).describe('who uses the secret, in the order they are given a new value'),
  timeouts: timeoutsSchema.optional(),
  description: z.string().max(500).optional(),
});

/**
 * `state` is one of the state drivers, told apart by `driver`; each brings its own schema
 * beside its implementation (state/registry.ts).
 */
const stateSchema = z
  .discriminatedUnion('driver', stateSchemas, {
    error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${stateDriverNames.map((d) => JSON.stringify(d)).join(', ')}` : undefined),
  })
  .default(defaultStateConfig)
  .describe(`where Rotor keeps its journal (${stateDriverNames.join(', ')})`);

/**
 * A `stores` entry is one of two kinds, told apart by `type`: a version store, where Rotor
 * keeps every version (stores/registry.ts), or a delivery target, where a consumer reads
 * the value in use (delivery/registry.ts). Each kind brings its own schema.
 */
export const storeSchema = z
  .union([...versionStoreSchemas, ...deliveryTargetSchemas])
  .describe(
    `a version store (${versionStoreTypes.join(', ')}: keeps every version of a secret, which names it with \`store\`) `
      + `or a delivery target (${deliveryTargetTypes.join(', ')}: holds the one value a consumer reads; deliveries name it with \`store\`)`,
  );

const deliverSchema = z.union([
  z.strictObject({
    store: name.describe(`a delivery target (${deliveryTargetTypes.join(', ')}) under \`stores\``),
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

/** Each reload and health kind brings its schema (consumers/reload/, consumers/health/). */
const reloadSchema = z.union(reloadSchemas);
const healthSchema = z.union(healthSchemas);

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
/** A `stores` entry: a version store or a delivery target. */
export type StoreConfig = VersionStoreConfig | DeliveryTargetConfig;
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
  /** rotor.yaml's `state`, its paths resolved (state/registry.ts). */
  state: StateConfig;
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
