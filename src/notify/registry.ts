/**
 * Every notifier kind, keyed by `type` under rotor.yaml's `notify`. Adding one (Teams,
 * Opsgenie) is its file here and one line below: the config schema and the dispatcher
 * read from this map.
 *
 * @example
 * // config/schema.ts
 * notify: z.record(nameSchema, z.discriminatedUnion('type', notifierSchemas)).default({}),
 */
import type { z } from 'zod';
import { emailNotifier } from './email.js';
import { pagerdutyNotifier } from './pagerduty.js';
import { slackNotifier } from './slack.js';
import type { Notifier, NotifierCreateOptions, NotifierDefinition } from './types.js';
import { webhookNotifier } from './webhook.js';

const definitions = {
  slack: slackNotifier,
  pagerduty: pagerdutyNotifier,
  email: emailNotifier,
  webhook: webhookNotifier,
} as const;

type Definitions = typeof definitions;
export type NotifierType = keyof Definitions;
type ConfigOf = { [T in NotifierType]: z.output<Definitions[T]['schema']> };
/** One entry under `notify`. */
export type NotifierConfig = ConfigOf[NotifierType];

export const notifierKinds: { [T in NotifierType]: NotifierDefinition<ConfigOf[T]> } = definitions;

export const notifierTypes: readonly string[] = Object.keys(notifierKinds);

type NotifierSchema = Definitions[NotifierType]['schema'];

function nonEmpty<T>(items: T[]): [T, ...T[]] {
  const [first, ...rest] = items;
  if (first === undefined) throw new Error('no notifier kinds registered');
  return [first, ...rest];
}

/** Each kind's schema, for the `notify` union in config/schema.ts (z.union or z.discriminatedUnion on `type`). */
export const notifierSchemas: [NotifierSchema, ...NotifierSchema[]] = nonEmpty(Object.values(definitions).map((d) => d.schema));

/** Builds the notifier `opts.config` describes with its kind's definition. */
export function createNotifier<T extends NotifierType>(opts: NotifierCreateOptions<ConfigOf[T] & { type: T }>): Notifier {
  return notifierKinds[opts.config.type].create(opts);
}
