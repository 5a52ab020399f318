/**
 * What a consumer does with a value: deliver it into its delivery targets and templates, reload the service, and wait
 * for its health checks; consumers/round.ts runs them in order. Each throws a ConsumerError
 * that says which consumer and which step failed; the engine turns that into a rollback.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConsumerConfig, HealthStep, ReloadStep, RotorConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { RotorError } from '../errors.js';
import type { SecretValue } from '../rotators/types.js';
import { UnsafePathError } from '../fs/safe-path.js';
import { replaceFile, type DeliveryBackups } from '../fs/safe-replace.js';
import { isDeliveryTargetConfig, openDeliveryTarget } from '../delivery/registry.js';
import type { Assignment } from '../delivery/types.js';
import { pickField, textOf } from './fields.js';
import { healthKindOf, runHealthAttempt } from './health/registry.js';
import type { CommandInput, TimedStep } from './kinds.js';
import { reloadKindOf, runReloadAttempt } from './reload/registry.js';
import { fillTemplate, placeholdersIn } from './template.js';

export class ConsumerError extends RotorError {
  constructor(consumer: string, message: string, hint?: string) {
    super(`consumer ${consumer}: ${message}`, { outcome: 'rolled-back', hint });
  }
}

const ms = (d: string) => parseDuration(d) ?? 30_000;

/** Why an attempt failed. fetch() says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is in its cause. */
function reason(err: unknown, timeout: string): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeout}`;
  if (e.message === 'fetch failed' && e.cause) return e.cause.code ? `${e.cause.code} (${e.cause.message})` : e.cause.message;
  return e.message;
}
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** What a delivery is given of one secret: its value and, while it is in grace, the value it replaced. */
export interface DeliveryInput {
  secretId: string;
  value: SecretValue;
  /** The previous version's value while it is valid (what `stage: previous` delivers); null when there is none. */
  previous: SecretValue | null;
}

/**
 * The text delivered for `field` (the whole value when undefined) of one stage. The current
 * value must have the field — config load checked its type has it, so a value without it is
 * refused rather than delivered empty; a previous value lacking it (none, or of another
 * shape after a change of algorithm) delivers an empty string.
 */
export function deliveredText(input: Pick<DeliveryInput, 'value' | 'previous'>, pick: { stage: 'current' | 'previous'; field: string | undefined; type: string | undefined }, consumer: string): string {
  const value = pick.stage === 'previous' ? input.previous : input.value;
  if (value === null) return '';
  if (pick.field === undefined) return textOf(value);
  const part = pickField(pick.type, value, pick.field);
  if (part !== undefined) return textOf(part);
  if (pick.stage === 'previous') return '';
  throw new ConsumerError(consumer, `the value has no field "${pick.field}"`, "fix `field` in the consumer's deliver list");
}

/** The deliveries of `consumer` that are for `secretId`: those that name it, or name no secret. */
export function deliveriesFor(consumer: ConsumerConfig, secretId: string): ConsumerConfig['deliver'] {
  return consumer.deliver.filter((d) => d.secret === undefined || d.secret === secretId);
}

/**
 * Whether any consumer of `secretId` is given its previous value (`stage: previous`, or a
 * template with a `{{ previous.… }}` placeholder). Retire must then deliver again to take
 * the retired value away from it. A template that cannot be read counts as yes.
 */
export function deliversPrevious(config: RotorConfig, secretId: string): boolean {
  const secret = config.secrets.find((s) => s.id === secretId);
  return (secret?.consumers ?? []).some((name) => {
    const consumer = config.consumers[name];
    return consumer !== undefined && deliveriesFor(consumer, secretId).some((d) => {
      if (!('template' in d)) return d.stage === 'previous' || (d.format !== undefined && placeholdersIn(d.format).some((p) => p.stage === 'previous'));
      try {
        return placeholdersIn(readFileSync(resolve(config.dir, d.template), 'utf8')).some((p) => p.stage === 'previous');
      } catch {
        return true;
      }
    });
  });
}

const types = new WeakMap<RotorConfig, Map<string, string>>();
function typeOf(config: RotorConfig, secretId: string): string | undefined {
  let byId = types.get(config);
  if (!byId) types.set(config, (byId = new Map(config.secrets.map((s) => [s.id, s.type]))));
  return byId.get(secretId);
}

/** How a delivery writes. */
export interface DeliverOptions {
  /** Keeps (sealed) the text each write replaced; without it none is kept. */
  backups?: DeliveryBackups;
  /**
   * The rollback's re-delivery of the previous value: a file Rotor refuses to write
   * (fs/safe-path.ts) is reported and left alone rather than failing the rollback — the
   * forward delivery was refused the same way, so it holds no new value to take back.
   */
  restoring?: boolean;
}

/**
 * Writes what `consumer` takes of one secret. `changed`: whether any target's content
 * changed; `texts`: what went into its delivery targets (for steps that wait for it to
 * arrive downstream, CommandInput.delivered).
 */
export async function deliver(
  config: RotorConfig, name: string, consumer: ConsumerConfig, input: DeliveryInput, opts: DeliverOptions = {},
): Promise<{ lines: string[]; changed: boolean; texts: string[] }> {
  const type = typeOf(config, input.secretId);
  // One write per delivery target, however many keys go into it.
  const byStore = new Map<string, Assignment[]>();
  const done: string[] = [];
  let changed = false;
  for (const d of deliveriesFor(consumer, input.secretId)) {
    if ('template' in d) {
      const rendered = await renderTemplate(config, name, d, input, type, opts);
      done.push(rendered.line);
      changed ||= rendered.changed;
      continue;
    }
    const list = byStore.get(d.store) ?? [];
    const value = d.format === undefined
      ? deliveredText(input, { stage: d.stage, field: d.field, type }, name)
      : fillTemplate(d.format, (p) => deliveredText(input, { stage: p.stage, field: p.field, type }, name));
    list.push({ key: d.key, value });
    byStore.set(d.store, list);
  }
  for (const [storeName, assignments] of byStore) {
    const store = config.stores[storeName]!;
    if (!isDeliveryTargetConfig(store)) continue; // config rules refuse deliveries into a version store
    const target = await openDeliveryTarget(store);
    try {
      const change = await target.assign({ assignments, backups: opts.backups });
      done.push(`${change.changed ? 'wrote' : 'unchanged'} ${assignments.map((a) => a.key).join(', ')} in ${storeName}${change.real ? ` (${change.real})` : ''}`);
      changed ||= change.changed;
    } catch (err) {
      if (opts.restoring && err instanceof UnsafePathError) {
        done.push(`left ${storeName} alone: ${err.message}`);
        continue;
      }
      throw new ConsumerError(name, `cannot deliver into ${storeName} (${target.location}): ${(err as Error).message}`, hintOf(err, `${target.location} was left as it was; fix it or the store entry`));
    }
  }
  return { lines: done, changed, texts: [...byStore.values()].flat().map((a) => a.value) };
}

/** Renders a template's placeholders (consumers/template.ts); a field the value lacks is an error, never an empty string. */
async function renderTemplate(
  config: RotorConfig, name: string, d: { template: string; to: string }, input: DeliveryInput, type: string | undefined, opts: DeliverOptions,
): Promise<{ line: string; changed: boolean }> {
  let text: string;
  try {
    text = readFileSync(resolve(config.dir, d.template), 'utf8');
  } catch (err) {
    throw new ConsumerError(name, `cannot read template ${d.template}: ${(err as Error).message}`);
  }
  const rendered = fillTemplate(text, (p) => deliveredText(input, { stage: p.stage, field: p.field, type }, name));
  let change;
  try {
    change = await replaceFile(resolve(config.dir, d.to), () => rendered, { backups: opts.backups });
  } catch (err) {
    if (opts.restoring && err instanceof UnsafePathError) return { line: `left ${d.to} alone: ${err.message}`, changed: false };
    throw new ConsumerError(name, `cannot render ${d.template} into ${d.to}: ${(err as Error).message}`, hintOf(err, 'the file was left as it was; fix it or `to`'));
  }
  return { line: change.changed ? `rendered ${d.template} into ${d.to}` : `unchanged ${d.to}`, changed: change.changed };
}

async function attempt<T>(step: TimedStep, fn: (timeoutMs: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i <= step.retries; i++) {
    if (i) await sleep(ms(step.interval));
    try {
      return await fn(ms(step.timeout));
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

export type { CommandInput };

/** Runs a reload step through its kind (consumers/reload/), with the step's retries. */
export async function reload(config: RotorConfig, name: string, step: ReloadStep, input: CommandInput): Promise<string> {
  const kind = reloadKindOf(step);
  try {
    return await attempt(step, (timeoutMs) => runReloadAttempt(kind, { step, config, input, timeoutMs }));
  } catch (err) {
    throw new ConsumerError(name, `reload failed: ${reason(err, step.timeout)}`, hintOf(err, undefined));
  }
}

/** The hint a typed error carries (an unsafe path says what to change), else `fallback`. */
function hintOf(err: unknown, fallback: string | undefined): string | undefined {
  return err instanceof RotorError && err.hint !== undefined ? err.hint : fallback;
}

/** Runs a health step through its kind (consumers/health/), with the step's retries. */
export async function health(config: RotorConfig, name: string, step: HealthStep, input: CommandInput): Promise<string> {
  const kind = healthKindOf(step);
  try {
    return await attempt(step, (timeoutMs) => runHealthAttempt(kind, { step, config, input, timeoutMs }));
  } catch (err) {
    throw new ConsumerError(name, `health check failed after ${step.retries + 1} attempt${step.retries ? 's' : ''}: ${reason(err, step.timeout)}`);
  }
}
