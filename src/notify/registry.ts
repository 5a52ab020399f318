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
import { namesOf, schemasOf } from '../registry.js';

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

export const notifierTypes: readonly string[] = namesOf(notifierKinds);

/** Each kind's schema, for the `notify` union in config/schema.ts (z.union or z.discriminatedUnion on `type`). */
export const notifierSchemas = schemasOf(definitions);

/** Builds the notifier `opts.config` describes with its kind's definition. */
export function createNotifier<T extends NotifierType>(opts: NotifierCreateOptions<ConfigOf[T] & { type: T }>): Notifier {
  return notifierKinds[opts.config.type].create(opts);
}
