/**
 * `type: webhook`: the Notification itself as a JSON body, POSTed to `url` and signed
 * with `Rotor-Signature` (signature.ts) so the receiver knows it came from this Rotor.
 * Each attempt is signed afresh, so a retry a minute later still passes a receiver's
 * replay tolerance; `Rotor-Delivery` stays the same across the attempts of one
 * notification, so a receiver can drop a duplicate.
 */
import { z } from 'zod';
import { endpointUrlSchema, eventsSchema } from './config.js';
import { notifierLabel } from './errors.js';
import { postJson } from './http.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';
import type { NotifierDefinition } from './types.js';

export const webhookNotifierSchema = z.strictObject({
  type: z.literal('webhook'),
  url: endpointUrlSchema('where to POST each notification as JSON'),
  secret: z
    .string()
    .min(16)
    .max(1024)
    .describe('the key of the HMAC-SHA256 in the Rotor-Signature header; the receiver holds the same one. Write it as ${VAR}'),
  events: eventsSchema,
});
export type WebhookNotifierConfig = z.infer<typeof webhookNotifierSchema>;

export const webhookNotifier = {
  schema: webhookNotifierSchema,
  create({ name, config }) {
    const label = notifierLabel('webhook', name);
    return {
      async send({ notification, signal, deliveryId }) {
        const body = JSON.stringify(notification);
        const headers = {
          [SIGNATURE_HEADER]: signatureHeader(body, config.secret),
          'Rotor-Event': notification.event,
          'Rotor-Delivery': deliveryId,
        };
        await postJson({ label, name, url: config.url, body, headers, signal });
        return 'sent';
      },
    };
  },
} satisfies NotifierDefinition<WebhookNotifierConfig>;
