/**
 * `type: pagerduty`: PagerDuty Events API v2 (POST /v2/enqueue). A secret that needs a
 * person raises one alert, keyed `rotor:<secretId>`: failures, rollbacks, "needs attention"
 * and overdue (and due-soon, at severity info, when configured) all `trigger` that key, so
 * PagerDuty folds them into one alert, and the secret's next `rotation.succeeded` sends
 * `resolve` with the same key. An emergency is its own alert, keyed by its incident.
 * The routing key is a credential: it appears in no message.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { endpointUrlSchema, eventsSchema } from './config.js';
import { notifierLabel } from './errors.js';
import { postJson } from './http.js';
import { truncate } from './render.js';
import type { Notification, NotifierDefinition, NotifyEvent } from './types.js';

const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
type Severity = (typeof SEVERITIES)[number];

export const pagerdutyNotifierSchema = z.strictObject({
  type: z.literal('pagerduty'),
  routingKey: z
    .string()
    .regex(/^[A-Za-z0-9]{32}$/, 'a PagerDuty integration (routing) key is 32 letters and digits')
    .describe('the Events API v2 integration key of the service; it is a credential, so write it as ${VAR}'),
  url: endpointUrlSchema('the Events API v2 endpoint (EU accounts: https://events.eu.pagerduty.com/v2/enqueue)')
    .default('https://events.pagerduty.com/v2/enqueue'),
  severity: z.enum(SEVERITIES).default('error').describe('the severity of the alerts Rotor raises'),
  events: eventsSchema,
});
export type PagerdutyNotifierConfig = z.infer<typeof pagerdutyNotifierSchema>;

type Action = { action: 'trigger'; severity: Severity } | { action: 'resolve' };

/** What each event does to the alert. due-soon is a reminder, not an outage: info. */
function actionOf(event: NotifyEvent, severity: Severity): Action {
  switch (event) {
    case 'rotation.succeeded':
    case 'emergency.finished':
      return { action: 'resolve' };
    case 'secret.due-soon':
      return { action: 'trigger', severity: 'info' };
    default:
      return { action: 'trigger', severity };
  }
}

// The API caps dedup_key at 255 characters and payload.summary at 1024.
const DEDUP_KEY_MAX = 255;
const SUMMARY_MAX = 1024;

/** One alert per secret, one per emergency: stable, so resolve finds what trigger raised. */
export function dedupKeyOf(n: Notification): string {
  const key = n.event.startsWith('emergency.') ? `rotor:emergency:${n.incident ?? '-'}` : `rotor:${n.secretId ?? '-'}`;
  return key.slice(0, DEDUP_KEY_MAX);
}

export function pagerdutyEvent(n: Notification, routingKey: string, action: Action, source: string): object {
  const dedup_key = dedupKeyOf(n);
  if (action.action === 'resolve') return { routing_key: routingKey, event_action: 'resolve', dedup_key };
  const custom_details: Record<string, string | number | boolean | null> = {
    event: n.event,
    secret: n.secretId,
    rotation: n.rotationId,
    step: n.step,
    error: n.error,
    hint: n.hint,
    incident: n.incident,
    ...n.details,
  };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key,
    client: 'Rotor',
    payload: {
      summary: truncate(n.summary, SUMMARY_MAX),
      source,
      severity: action.severity,
      timestamp: new Date(n.at).toISOString(),
      component: n.secretId ?? undefined,
      class: n.event,
      custom_details,
    },
  };
}

/**
 * Dedup keys this process has triggered and not yet resolved, so a success for a secret
 * that never raised an alert sends nothing. It lives in memory only: after a restart, the
 * first success of a secret whose alert is still open sends nothing either, and the alert
 * is resolved by hand (or by the next failure and success). Bounded, oldest forgotten
 * first, so a daemon running for months over many secrets does not grow without limit.
 */
export class TriggeredKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly max = 10_000) {}

  add(key: string): void {
    this.keys.delete(key); // re-adding moves it to the newest end
    this.keys.add(key);
    if (this.keys.size > this.max) {
      const oldest = this.keys.values().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
  }
  has(key: string): boolean {
    return this.keys.has(key);
  }
  delete(key: string): void {
    this.keys.delete(key);
  }
}

export const pagerdutyNotifier = {
  schema: pagerdutyNotifierSchema,
  create({ name, config }) {
    const label = notifierLabel('pagerduty', name);
    const source = `rotor@${hostname()}`;
    const triggered = new TriggeredKeys();
    return {
      async send({ notification, signal }) {
        const action = actionOf(notification.event, config.severity);
        const key = dedupKeyOf(notification);
        // The dispatcher sends one notifier's notifications in order, one at a time, so a
        // trigger has been delivered (or given up) before a later resolve is looked at.
        if (action.action === 'resolve' && !triggered.has(key)) return 'skipped';
        const body = JSON.stringify(pagerdutyEvent(notification, config.routingKey, action, source));
        await postJson({ label, name, url: config.url, body, signal });
        if (action.action === 'trigger') triggered.add(key);
        else triggered.delete(key);
        return 'sent';
      },
    };
  },
} satisfies NotifierDefinition<PagerdutyNotifierConfig>;
