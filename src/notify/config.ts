/**
 * Field schemas every notifier kind shares. Values may come from `${VAR}` expansion by
 * the config loader, so here they are plain strings.
 */
import { z } from 'zod';
import { NOTIFY_EVENTS } from './types.js';

export const eventsSchema = z
  .array(z.enum(NOTIFY_EVENTS))
  .min(1)
  .max(NOTIFY_EVENTS.length)
  .describe(`which events this notifier receives (${NOTIFY_EVENTS.join(', ')})`);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An endpoint a notifier POSTs to: https, or plain http to this machine only (a local relay,
 * a test receiver). Notification bodies and the URLs themselves carry credentials (a Slack
 * webhook URL is one), so they never cross a network in clear.
 */
export function endpointUrlSchema(what: string) {
  return z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .refine((text) => {
      const url = new URL(text);
      return url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
    }, 'must be an https URL (plain http only to 127.0.0.1, localhost or [::1])')
    .describe(what);
}

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
