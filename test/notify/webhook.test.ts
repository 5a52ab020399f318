import { afterEach, describe, expect, it } from 'vitest';
import { Notifications } from '../../src/notify/dispatcher.js';
import { signatureHeader, verifySignature } from '../../src/notify/signature.js';
import type { Notification } from '../../src/notify/types.js';
import { FAST_RETRY, notification, notifyConfig, recorder, startHttpReceiver, type HttpReceiver } from './receivers.js';

const SECRET = 'whsec-0123456789abcdef';

let receiver: HttpReceiver;
let notifications: Notifications | undefined;
afterEach(async () => {
  await notifications?.close();
  await receiver?.close();
});

describe('webhook notifier', () => {
  it('POSTs the notification as JSON, signed so the receiver can verify it', async () => {
    receiver = await startHttpReceiver((req) => ({ status: verifySignature(req.headers['rotor-signature'] as string, req.body, SECRET, 300) ? 204 : 401 }));
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ hook: { type: 'webhook', url: `${receiver.url}/rotor`, secret: SECRET, events: ['rotation.failed'] } }), {
      redact: (s) => s,
      retry: FAST_RETRY,
      ...rec,
    });
    const n = notification({ details: { priority: 'high', dueAt: 1735689600000, manual: false, owner: null } });
    notifications.emit(n);
    await notifications.drain(5_000);

    expect(rec.failed).toEqual([]);
    expect(rec.delivered).toHaveLength(1);
    const req = receiver.received[0]!;
    expect(req.path).toBe('/rotor');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['rotor-event']).toBe('rotation.failed');
    expect(req.headers['rotor-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(req.body) as Notification).toEqual(n);
    const header = req.headers['rotor-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    // The SPEC's construction, computed here independently.
    const t = Number(/^t=(\d+)/.exec(header)![1]);
    const { createHmac } = await import('node:crypto');
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${req.body}`).digest('hex')}`);
    // A tampered body, another secret, or an old timestamp are refused.
    expect(verifySignature(header, req.body.replace('verify', 'vErify'), SECRET, 300)).toBe(false);
    expect(verifySignature(header, req.body, `${SECRET}x`, 300)).toBe(false);
    expect(verifySignature(header, req.body, SECRET, 300, (t + 301) * 1000)).toBe(false);
  });

  it('reports a receiver that refuses a tampered body', async () => {
    // A proxy in the way that changes the body: the receiver's check fails, and Rotor hears 401.
    receiver = await startHttpReceiver((req) => ({ status: verifySignature(req.headers['rotor-signature'] as string, `${req.body} `, SECRET, 300) ? 204 : 401 }));
    const rec = recorder();
    notifications = new Notifications(notifyConfig({ hook: { type: 'webhook', url: receiver.url, secret: SECRET, events: ['rotation.failed'] } }), { redact: (s) => s, retry: FAST_RETRY, ...rec });
    notifications.emit(notification());
    await notifications.drain(5_000);
    expect(rec.delivered).toEqual([]);
    expect(rec.failed.map((f) => [f.err.message, f.willRetry])).toEqual([['webhook notifier `hook`: HTTP 401', false]]);
  });

  it('verifySignature takes any of several v1 entries and refuses malformed headers', () => {
    const body = '{"a":1}';
    const now = 1_800_000_000_000;
    const good = signatureHeader(body, SECRET, now);
    const other = signatureHeader(body, 'another-secret-0123456', now).split(',')[1];
    expect(verifySignature(`${good.split(',')[0]},${other},${good.split(',')[1]}`, body, SECRET, 60, now)).toBe(true);
    expect(verifySignature(good, Buffer.from(body), SECRET, 60, now)).toBe(true);
    for (const bad of [undefined, null, '', 't=,v1=', `v1=${good.split('v1=')[1]}`, good.split(',')[0]!, 'garbage', `${good}0`.replace(/v1=.*/, 'v1=zz')]) {
      expect(verifySignature(bad, body, SECRET, 60, now)).toBe(false);
    }
  });

  it('wants a secret of 16 characters or more', () => {
    expect(() => notifyConfig({ hook: { type: 'webhook', url: 'https://example.com/h', secret: 'short', events: ['rotation.failed'] } })).toThrow();
  });
});
