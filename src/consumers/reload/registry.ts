/**
 * Every reload kind — how a consumer is told to take up a new value — keyed by the field that names it in a
 * consumer's `reload` list. Adding one is its file here and one line below: the config
 * schema, the rules and actions.ts read from this map. The order is the order zod tries
 * them in (and the JSON Schema lists them).
 *
 * @example
 * const line = await runReloadAttempt(reloadKindOf(step), { step, config, input, timeoutMs: 30_000 });
 */
import type { z } from 'zod';
import type { RotorConfig } from '../../config/schema.js';
import { kindOf, type ActionRequest, type ConsumerActionKind } from '../kinds.js';
import { commandReload } from './command.js';
import { externalSecretReload } from './external-secret.js';
import { httpReload } from './http.js';
import { rolloutRestartReload } from './rollout-restart.js';
import { signalReload } from './signal.js';
import { namesOf, schemasOf } from '../../registry.js';

const definitions = {
  command: commandReload,
  http: httpReload,
  signal: signalReload,
  externalSecret: externalSecretReload,
  rolloutRestart: rolloutRestartReload,
} as const;

type Definitions = typeof definitions;
export type ReloadKindName = keyof Definitions;
type StepOf = { [K in ReloadKindName]: z.output<Definitions[K]['schema']> };
export type ReloadStep = StepOf[ReloadKindName];

export const reloadKinds: { [K in ReloadKindName]: ConsumerActionKind<StepOf[K]> } = definitions;

const names = namesOf(reloadKinds);

/** The kinds' names, for messages. */
export const reloadKindNames: readonly string[] = names;

/** Each kind's schema, for the `reload` union in config/schema.ts. */
export const reloadSchemas = schemasOf(definitions);

/** Which kind `step` is. */
export function reloadKindOf(step: ReloadStep): ReloadKindName {
  return kindOf(names, step);
}

/** One attempt of a step of kind `kind`. */
export function runReloadAttempt<K extends ReloadKindName>(kind: K, req: ActionRequest<StepOf[K]>): Promise<string> {
  return reloadKinds[kind].run(req);
}

/** What the kinds' own checks find on a raw step (see ConsumerActionKind.check). */
export function reloadStepProblems(raw: Record<string, unknown>): string[] {
  return names.flatMap((name) => reloadKinds[name].check?.(raw) ?? []);
}

/** The step's preflight (ConsumerActionKind.preflight), when its kind has one. */
export async function preflightReloadStep(step: ReloadStep, config: RotorConfig): Promise<void> {
  await preflightOf(reloadKindOf(step), step, config);
}

async function preflightOf<K extends ReloadKindName>(kind: K, step: StepOf[K], config: RotorConfig): Promise<void> {
  const def: ConsumerActionKind<StepOf[K]> = reloadKinds[kind];
  await def.preflight?.({ step, config });
}
