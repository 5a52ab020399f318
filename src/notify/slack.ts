/**
 * `type: slack`: a message to a Slack incoming webhook. The body is `text` (the
 * notification line, which Slack also shows in push notifications) and `blocks` (the same
 * line, then one field per detail). The webhook URL is a credential: it appears in no
 * message.
 */
import { z } from 'zod';
import { endpointUrlSchema, eventsSchema } from './config.js';
import { notifierLabel } from './errors.js';
import { postJson } from './http.js';
import { fieldsOf, truncate } from './render.js';
import type { Notification, NotifierDefinition } from './types.js';

export const slackNotifierSchema = z.strictObject({
  type: z.literal('slack'),
  webhook: endpointUrlSchema('the incoming-webhook URL (https://hooks.slack.com/services/…); it is a credential, so write it as ${VAR}'),
  events: eventsSchema,
});
export type SlackNotifierConfig = z.infer<typeof slackNotifierSchema>;

// Block Kit limits: section text 3000 characters, at most 10 fields of 2000 each.
const SECTION_TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_MAX = 10;

/** Slack's mrkdwn gives &, < and > meaning (links, mentions); escape them as Slack asks. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackPayload(n: Notification): { text: string; blocks: object[] } {
  const line = `*${n.event}*: ${escape(n.summary)}`;
  const blocks: object[] = [{ type: 'section', text: { type: 'mrkdwn', text: truncate(line, SECTION_TEXT_MAX) } }];
  const fields = fieldsOf(n)
    .slice(0, FIELDS_MAX)
    .map(([label, text]) => ({ type: 'mrkdwn', text: truncate(`*${escape(label)}*\n${escape(text)}`, FIELD_MAX) }));
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  return { text: truncate(`${n.event}: ${escape(n.summary)}`, SECTION_TEXT_MAX), blocks };
}

export const slackNotifier = {
  schema: slackNotifierSchema,
  create({ name, config }) {
    const label = notifierLabel('slack', name);
    return {
      async send({ notification, signal }) {
        await postJson({ label, name, url: config.webhook, body: JSON.stringify(slackPayload(notification)), signal });
        return 'sent';
      },
    };
  },
} satisfies NotifierDefinition<SlackNotifierConfig>;
