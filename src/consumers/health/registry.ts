/**
 * Every health kind — how Rotor knows a consumer works on its new value — keyed by the field that names it in a
 * consumer's `health` list. Adding one is its file here and one line below: the config
 * schema, the rules and actions.ts read from this map. The order is the order zod tries
 * them in (and the JSON Schema lists them).
 *
 * @example
 * const line = await runHealthAttempt(healthKindOf(step), { step, config, input, timeoutMs: 30_000 });
 */
import type { z } from 'zod';
import type { RotorConfig } from '../../config/schema.js';
import { kindOf, type ActionRequest, type ConsumerActionKind } from '../kinds.js';
import { commandHealth } from './command.js';
import { httpHealth } from './http.js';
import { prometheusHealth } from './prometheus.js';
import { rolloutStatusHealth } from './rollout-status.js';
import { tcpHealth } from './tcp.js';
import { namesOf, schemasOf } from '../../registry.js';

const definitions = {
  http: httpHealth,
  tcp: tcpHealth,
  command: commandHealth,
  prometheus: prometheusHealth,
  rolloutStatus: rolloutStatusHealth,
} as const;

type Definitions = typeof definitions;
export type HealthKindName = keyof Definitions;
type StepOf = { [K in HealthKindName]: z.output<Definitions[K]['schema']> };
export type HealthStep = StepOf[HealthKindName];

export const healthKinds: { [K in HealthKindName]: ConsumerActionKind<StepOf[K]> } = definitions;

const names = namesOf(healthKinds);

/** The kinds' names, for messages. */
export const healthKindNames: readonly string[] = names;

/** Each kind's schema, for the `health` union in config/schema.ts. */
export const healthSchemas = schemasOf(definitions);

/** Which kind `step` is. */
export function healthKindOf(step: HealthStep): HealthKindName {
  return kindOf(names, step);
}

/** One attempt of a step of kind `kind`. */
export function runHealthAttempt<K extends HealthKindName>(kind: K, req: ActionRequest<StepOf[K]>): Promise<string> {
  return healthKinds[kind].run(req);
}

/** What the kinds' own checks find on a raw step (see ConsumerActionKind.check). */
export function healthStepProblems(raw: Record<string, unknown>): string[] {
  return names.flatMap((name) => healthKinds[name].check?.(raw) ?? []);
}

/** Whether `step` runs again just before retire (ConsumerActionKind.recheckBeforeRetire). */
export function rechecksBeforeRetire(step: HealthStep): boolean {
  return healthKinds[healthKindOf(step)].recheckBeforeRetire === true;
}

/** The step's preflight (ConsumerActionKind.preflight), when its kind has one. */
export async function preflightHealthStep(step: HealthStep, config: RotorConfig): Promise<void> {
  await preflightOf(healthKindOf(step), step, config);
}

async function preflightOf<K extends HealthKindName>(kind: K, step: StepOf[K], config: RotorConfig): Promise<void> {
  const def: ConsumerActionKind<StepOf[K]> = healthKinds[kind];
  await def.preflight?.({ step, config });
}
