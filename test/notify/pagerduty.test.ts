import { afterEach, describe, expect, it } from 'vitest';
import { Notifications } from '../../src/notify/dispatcher.js';
import { TriggeredKeys } from '../../src/notify/pagerduty.js';
import { FAST_RETRY, notification, notifyConfig, recorder, startHttpReceiver, type HttpReceiver, type Received } from './receivers.js';

const ROUTING_KEY = 'R0123456789abcdefghijABCDEFGHIJ0';

let receiver: HttpReceiver;
let notifications: Notifications | undefined;
afterEach(async () => {
  await notifications?.close();
  await receiver.close();
});

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** Events API v2 (POST /v2/enqueue), strictly: the fields it requires, no field it does not know. */
function eventProblems(req: Received): string[] {
  const e = JSON.parse(req.body) as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(e).sort();
  if (e.routing_key !== ROUTING_KEY) problems.push('routing_key');
  if (typeof e.dedup_key !== 'string' || e.dedup_key.length === 0 || e.dedup_key.length > 255) problems.push('dedup_key');
  if (e.event_action === 'resolve') {
    if (keys.join() !== 'dedup_key,event_action,routing_key') problems.push(`resolve keys ${keys.join()}`);
    return problems;
  }
  if (e.event_action !== 'trigger') return [...problems, `event_action ${String(e.event_action)}`];
  if (keys.some((k) => !['routing_key', 'event_action', 'dedup_key', 'client', 'client_url', 'payload', 'links', 'images'].includes(k))) problems.push(`keys ${keys.join()}`);
  const p = e.payload as Record<string, unknown> | undefined;
  if (p === undefined) return [...problems, 'no payload'];
  if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) problems.push('payload.summary');
  if (typeof p.source !== 'string' || p.source.length === 0) problems.push('payload.source');
  if (typeof p.severity !== 'string' || !SEVERITIES.includes(p.severity)) problems.push('payload.severity');
  if (p.timestamp !== undefined && Number.isNaN(Date.parse(String(p.timestamp)))) problems.push('payload.timestamp');
  const known = ['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details'];
  if (Object.keys(p).some((k) => !known.includes(k))) problems.push(`payload keys ${Object.keys(p).join()}`);
  return problems;
}

function pagerduty(): Promise<HttpReceiver> {
  return startHttpReceiver((req) => {
    const problems = eventProblems(req);
    if (problems.length > 0) return { status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: problems }) };
    const { dedup_key } = JSON.parse(req.body) as { dedup_key: string };
    return { status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key }), headers: { 'content-type': 'application/json' } };
  });
}

const ALL = ['rotation.failed', 'rotation.succeeded', 'secret.overdue', 'secret.due-soon', 'emergency.started', 'emergency.finished'];

describe('pagerduty notifier', () => {
  it('triggers, then resolves with the same dedup key; a success never triggered sends nothing', async () => {
    receiver = await pagerduty();
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ oncall: { type: 'pagerduty', routingKey: ROUTING_KEY, url: `${receiver.url}/v2/enqueue`, severity: 'critical', events: ALL } }), {
      redact: (s) => s,
      retry: FAST_RETRY,
      ...rec,
    });
    notifications.emit(notification({ event: 'rotation.succeeded', secretId: 'cache/main', step: null, error: null, summary: 'rotated cache/main' }));
    notifications.emit(notification({ summary: 'x'.repeat(5000), details: { priority: 'critical', dueAt: 1735689600000 } }));
    notifications.emit(notification({ event: 'rotation.succeeded', step: null, error: null, summary: 'rotated database/primary' }));
    notifications.emit(notification({ event: 'rotation.succeeded', step: null, error: null, summary: 'rotated database/primary again' }));
    await notifications.drain(5_000);

    expect(rec.failed).toEqual([]);
    expect(receiver.received).toHaveLength(2);
    for (const req of receiver.received) expect(eventProblems(req)).toEqual([]);
    expect(receiver.received.every((r) => r.path === '/v2/enqueue')).toBe(true);
    const [trigger, resolve] = receiver.received.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string; payload?: Record<string, unknown> });
    expect(trigger!.event_action).toBe('trigger');
    expect(resolve!.event_action).toBe('resolve');
    expect(resolve!.dedup_key).toBe(trigger!.dedup_key);
    expect(trigger!.dedup_key).toBe('rotor:database/primary');
    expect(trigger!.payload).toMatchObject({ severity: 'critical', class: 'rotation.failed', component: 'database/primary', timestamp: '2026-01-02T03:04:05.000Z' });
    expect(String(trigger!.payload!.summary)).toHaveLength(1024);
    expect(trigger!.payload!.custom_details).toMatchObject({ secret: 'database/primary', rotation: 'rot-1', step: 'verify', error: 'login rejected by database', priority: 'critical', dueAt: 1735689600000 });
    // onDelivered only for what was sent: the trigger and one resolve.
    expect(rec.delivered.map((d) => d.n.event)).toEqual(['rotation.failed', 'rotation.succeeded']);
  });

  it('raises a reminder at info, and an emergency as its own alert', async () => {
    receiver = await pagerduty();
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ oncall: { type: 'pagerduty', routingKey: ROUTING_KEY, url: receiver.url, events: ALL } }), { redact: (s) => s, ...rec });
    notifications.emit(notification({ event: 'secret.due-soon', step: null, error: null, summary: 'database/primary is due in 14 days' }));
    notifications.emit(notification({ event: 'emergency.started', secretId: null, rotationId: null, step: null, error: null, incident: 'INC-7', summary: 'emergency rotation started' }));
    notifications.emit(notification({ event: 'emergency.finished', secretId: null, rotationId: null, step: null, error: null, incident: 'INC-7', summary: 'emergency rotation finished' }));
    await notifications.drain(5_000);
    expect(rec.failed).toEqual([]);
    const events = receiver.received.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string; payload?: { severity: string } });
    expect(events.map((e) => [e.event_action, e.dedup_key, e.payload?.severity])).toEqual([
      ['trigger', 'rotor:database/primary', 'info'],
      ['trigger', 'rotor:emergency:INC-7', 'error'],
      ['resolve', 'rotor:emergency:INC-7', undefined],
    ]);
  });

  it('reports a refused event without retrying and without its routing key', async () => {
    receiver = await startHttpReceiver(() => ({ status: 400, body: `bad routing_key ${ROUTING_KEY}` }));
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ oncall: { type: 'pagerduty', routingKey: ROUTING_KEY, url: receiver.url, events: ['rotation.failed'] } }), {
      redact: (s) => s,
      retry: FAST_RETRY,
      ...rec,
    });
    notifications.emit(notification());
    await notifications.drain(5_000);
    expect(receiver.received).toHaveLength(1);
    expect(rec.failed.map((f) => [f.err.message, f.willRetry])).toEqual([['pagerduty notifier `oncall`: HTTP 400', false]]);
  });

  it('checks the routing key and severity in the config', () => {
    expect(() => notifyConfig({ p: { type: 'pagerduty', routingKey: 'short', events: ['rotation.failed'] } })).toThrow(/32/);
    expect(() => notifyConfig({ p: { type: 'pagerduty', routingKey: ROUTING_KEY, severity: 'page-everyone', events: ['rotation.failed'] } })).toThrow();
    const parsed = notifyConfig({ p: { type: 'pagerduty', routingKey: ROUTING_KEY, events: ['rotation.failed'] } });
    expect(parsed.p).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue', severity: 'error' });
  });

  it('remembers a bounded number of triggered keys, forgetting the oldest', () => {
    const keys = new TriggeredKeys(2);
    keys.add('a');
    keys.add('b');
    keys.add('a');
    keys.add('c');
    expect([keys.has('a'), keys.has('b'), keys.has('c')]).toEqual([true, false, true]);
  });
});
