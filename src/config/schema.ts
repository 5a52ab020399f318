/**
 * The shape of rotor.yaml. Validation happens once, here and in rules.ts; everything
 * after load.ts works with the plain, normalized `RotorConfig`.
 *
 * Type-specific secret fields (a random secret's `length`, a database secret's
 * `strategy`) live beside each rotator in rotators/<type>/schema.ts and are checked in a
 * second pass, so an unknown type gets its own clear message instead of a wall of union
 * errors.
 */
import { kmsMasterKeySchema, type KmsMasterKeyConfig } from '../aws/kms.js';
import { z } from 'zod';
import { FIELD_PATH } from '../consumers/field-problem.js';
import { deliveryTargetSchemas, deliveryTargetTypes, isDeliveryTargetConfig, type DeliveryTargetConfig } from '../delivery/registry.js';
import { healthKindNames, healthSchemas } from '../consumers/health/registry.js';
import { reloadKindNames, reloadSchemas } from '../consumers/reload/registry.js';
import { defaultStateConfig, stateDriverNames, stateSchemas, type StateConfig } from '../state/registry.js';
import { isVersionStoreConfig, versionStoreSchemas, versionStoreTypes, type VersionStoreConfig } from '../stores/registry.js';
import { notifierSchemas, notifierTypes, type NotifierConfig } from '../notify/registry.js';
import { cronSchema, windowSchema, type Window } from '../schedule/policy.js';
import { durationSchema, nameSchema, parseListen, secretIdSchema } from './common.js';
import { parseDuration } from './duration.js';

/** Which version a delivery takes. */
export const DELIVERED_STAGES = ['current', 'previous'] as const;

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

const name = nameSchema;

export { durationSchema, secretIdSchema };

/** A duration that must be more than zero: a timeout of 0 would fail every step at once. */
const timeoutSchema = durationSchema
  .refine((s) => parseDuration(s) === undefined || parseDuration(s)! > 0, 'a timeout must be longer than 0')
  // Node's timers hold at most 2^31 - 1 ms; a longer one would fire at once.
  .refine((s) => parseDuration(s) === undefined || parseDuration(s)! <= MAX_TIMER_MS, 'a timeout must be at most 24d');

/** The longest delay a Node timer keeps (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

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
  schedule: cronSchema.optional(),
  window: windowSchema.optional(),
  remind: durationSchema.optional().describe('notify (`secret.due-soon`) this long before the secret is due, e.g. 14d'),
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
  .union([...versionStoreSchemas, ...deliveryTargetSchemas], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      if (!hasKnownType(issue.input, [...versionStoreTypes, ...deliveryTargetTypes])) {
        return `\`type\` must be a version store (${versionStoreTypes.join(', ')}) or a delivery target (${deliveryTargetTypes.join(', ')})`;
      }
      return ownBranchProblems(issue.input as { type: string }, (issue as { errors?: { path: PropertyKey[]; message: string }[][] }).errors);
    },
  })
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
    format: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        'instead of `field`: the text to deliver, with the placeholders a template takes — '
          + 'connection_string: "postgresql://{{ username }}:{{ password }}@{{ host }}:{{ port }}/{{ database }}"',
      ),
    secret: secretIdSchema.optional().describe('the secret this delivery is for, when the consumer uses several'),
  }).refine((d) => d.format === undefined || (d.field === undefined && d.stage === 'current'), {
    message: '`format` says with its placeholders what to deliver: drop `field` and `stage` ({{ previous.… }} reads the previous value)',
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
const reloadSchema = z.union(reloadSchemas, { error: (issue) => kindError(issue, 'reload', reloadKindNames) });
const healthSchema = z.union(healthSchemas, { error: (issue) => kindError(issue, 'health', healthKindNames) });

/** Whether a union member's `type` is one the union knows: then its own, precise errors are the ones to show. */
/**
 * A type that is both a version store and a delivery target (aws-secrets-manager) matches
 * two branches, and zod then says only "Invalid input": the problems are taken from the
 * branch of the kind that claims the entry (`owns`), so a typo is named.
 */
function ownBranchProblems(input: { type: string }, errors: { path: PropertyKey[]; message: string }[][] | undefined): string | undefined {
  const index = isVersionStoreConfig(input)
    ? versionStoreTypes.indexOf(input.type)
    : isDeliveryTargetConfig(input) ? versionStoreTypes.length + deliveryTargetTypes.indexOf(input.type) : -1;
  const problems = errors?.[index];
  if (!problems?.length) return undefined;
  return problems.map((p) => (p.path.length ? `${p.path.join('.')}: ${p.message}` : p.message)).join('; ');
}

function hasKnownType(input: unknown, types: readonly string[]): boolean {
  return typeof input === 'object' && input !== null && types.includes((input as { type?: unknown }).type as string);
}

/** A step of no known kind gets the list of kinds, not zod's bare "Invalid input". */
function kindError(issue: { code: string; input?: unknown }, section: string, kinds: readonly string[]): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const input = issue.input;
  if (typeof input === 'object' && input !== null && kinds.some((k) => Object.hasOwn(input, k))) return undefined;
  return `a ${section} step names one kind: ${kinds.map((k) => `{ ${k}: … }`).join(', ')}`;
}

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

const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:8200')
  .refine((s) => parseListen(s) !== undefined || !/:\d{1,5}$/.test(s), 'the port must be at most 65535');

/** `serve`: the daemon (`rotor serve`). */
const serveSchema = z
  .strictObject({
    listen: listenSchema.default('127.0.0.1:8200').describe('where the HTTP API listens; 127.0.0.1 keeps it on this host'),
    tls: z
      .strictObject({ cert: z.string().min(1).max(4096), key: z.string().min(1).max(4096) })
      .optional()
      .describe('serve HTTPS with this certificate and key (PEM files, relative to rotor.yaml)'),
    metricsToken: z.boolean().default(false).describe('require a token (any role) for GET /metrics'),
    tick: timeoutSchema.default('1s').describe('how often the schedule is checked'),
    retry: z
      .strictObject({ initial: timeoutSchema.default('30s'), max: timeoutSchema.default('1h') })
      .default({ initial: '30s', max: '1h' })
      .describe('a failed scheduled rotation is retried after `initial`, doubling up to `max`'),
    shutdownTimeout: timeoutSchema.default('30s').describe('on SIGTERM, how long running steps may take to finish before the daemon exits (what is left is journaled for resume)'),
  })
  .default({ listen: '127.0.0.1:8200', metricsToken: false, tick: '1s', retry: { initial: '30s', max: '1h' }, shutdownTimeout: '30s' });

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
  serve: serveSchema,
  masterKey: z
    .strictObject({ kms: kmsMasterKeySchema })
    .optional()
    .describe('where the master key comes from when ROTOR_MASTER_KEY is not set: wrapped by AWS KMS (`rotor init --kms KEY`)'),
  notify: z
    .record(name, z.discriminatedUnion('type', notifierSchemas))
    .default({})
    .describe(`who is told what the daemon does: each entry a notifier (${notifierTypes.join(', ')}) with the events it wants`),
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
  /** `schedule`: a cron expression (UTC); when set, it decides the due time instead of the interval. */
  schedule?: string;
  /** `window`: due rotations wait for it. */
  window?: Window;
  /** `remind`, in ms: `secret.due-soon` this long before the due time. */
  remindMs?: number;
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

/** `serve`, durations in ms and paths resolved. */
export interface ServeConfig {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  metricsToken: boolean;
  tickMs: number;
  retry: { initialMs: number; maxMs: number };
  shutdownTimeoutMs: number;
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
  serve: ServeConfig;
  /** `masterKey.kms`, its ciphertext file resolved: the master key is unwrapped by KMS. */
  masterKey?: { kms: KmsMasterKeyConfig };
  /** `notify`: the daemon's notifiers, by name. */
  notify: Record<string, NotifierConfig>;
  /** Environment variables the targets' admin URLs are built from: no hook command inherits them. */
  targetEnv: string[];
}
