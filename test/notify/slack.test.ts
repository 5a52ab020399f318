import { afterEach, describe, expect, it } from 'vitest';
import { Notifications } from '../../src/notify/dispatcher.js';
import { FAST_RETRY, notification, notifyConfig, recorder, startHttpReceiver, waitFor, type HttpReceiver, type Received } from './receivers.js';

let receiver: HttpReceiver;
let notifications: Notifications | undefined;
afterEach(async () => {
  await notifications?.close();
  await receiver.close();
});

/** The incoming-webhook shape: `text`, and `blocks` of sections whose text is mrkdwn within Block Kit's limits. */
function slackProblems(req: Received): string[] {
  const problems: string[] = [];
  if (req.method !== 'POST') problems.push('not a POST');
  if (!String(req.headers['content-type']).startsWith('application/json')) problems.push('not JSON');
  const body = JSON.parse(req.body) as { text?: unknown; blocks?: unknown };
  if (typeof body.text !== 'string' || body.text.length === 0) problems.push('no text');
  if (!Array.isArray(body.blocks) || body.blocks.length === 0 || body.blocks.length > 50) return [...problems, 'no blocks'];
  for (const block of body.blocks as { type: string; text?: { type: string; text: string }; fields?: { type: string; text: string }[] }[]) {
    if (block.type !== 'section') problems.push(`block ${block.type}`);
    if (block.text && (block.text.type !== 'mrkdwn' || block.text.text.length > 3000)) problems.push('bad section text');
    if (block.fields && (block.fields.length > 10 || block.fields.some((f) => f.type !== 'mrkdwn' || f.text.length > 2000))) problems.push('bad fields');
    if (!block.text && !block.fields) problems.push('empty section');
  }
  return problems;
}

describe('slack notifier', () => {
  it('POSTs text and blocks to the webhook, which answers ok', async () => {
    receiver = await startHttpReceiver((req) => (slackProblems(req).length === 0 ? { status: 200, body: 'ok' } : { status: 400, body: 'invalid_payload' }));
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ team: { type: 'slack', webhook: `${receiver.url}/services/T0/B0/XyZ`, events: ['rotation.failed'] } }), {
      redact: (s) => s,
      retry: FAST_RETRY,
      ...rec,
    });
    notifications.emit(notification({ details: { priority: 'critical' }, summary: 'rotation of <database/primary> & co failed' }));
    await notifications.drain(5_000);

    expect(rec.failed).toEqual([]);
    expect(rec.delivered.map((d) => d.name)).toEqual(['team']);
    expect(receiver.received).toHaveLength(1);
    const req = receiver.received[0]!;
    expect(req.path).toBe('/services/T0/B0/XyZ');
    expect(slackProblems(req)).toEqual([]);
    const body = JSON.parse(req.body) as { text: string; blocks: { fields?: { text: string }[] }[] };
    // Slack's mrkdwn control characters are escaped, so a summary cannot forge a link or mention.
    expect(body.text).toBe('rotation.failed: rotation of &lt;database/primary&gt; &amp; co failed');
    const fields = body.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(fields).toEqual(expect.arrayContaining(['*Secret*\ndatabase/primary', '*Step*\nverify', '*Error*\nlogin rejected by database', '*priority*\ncritical']));
  });

  it('refuses a plain-http webhook that leaves the machine', () => {
    expect(() => notifyConfig({ team: { type: 'slack', webhook: 'http://hooks.slack.com/services/x', events: ['rotation.failed'] } })).toThrow(/https/);
    expect(() => notifyConfig({ team: { type: 'slack', webhook: 'https://hooks.slack.com/services/x', events: [] } })).toThrow();
    expect(() => notifyConfig({ team: { type: 'slack', webhook: 'https://hooks.slack.com/services/x', events: ['rotation.failed'], channel: '#x' } })).toThrow();
  });

  it('waits for deliveries on drain', async () => {
    receiver = await startHttpReceiver(() => new Promise((resolve) => setTimeout(() => resolve({ status: 200, body: 'ok' }), 50)));
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ team: { type: 'slack', webhook: receiver.url, events: ['secret.overdue'] } }), { redact: (s) => s, ...rec });
    notifications.emit(notification({ event: 'secret.overdue' }));
    notifications.emit(notification({ event: 'secret.overdue', secretId: 'cache/main' }));
    await notifications.drain(5_000);
    await waitFor(() => rec.delivered.length === 2, 1);
  });
});
