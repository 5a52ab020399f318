/**
 * The leak canary: a value planted in every text field of a notification must reach no
 * receiver (the redact function given to the dispatcher replaces it), and a notifier's own
 * credentials (Slack webhook URL, routing key, SMTP password, webhook secret) must appear
 * in no failure reported to the daemon, whatever way the delivery failed.
 */
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifications } from '../../src/notify/dispatcher.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { FAST_RETRY, notification, notifyConfig, parseMail, recorder, startHttpReceiver, startSmtpReceiver } from './receivers.js';

const CANARY = 'CanaryValue7f1e9b2d';
const redact = (text: string) => text.replaceAll(CANARY, '[redacted]');

const SLACK_PATH = '/services/T0CANARY/B0CANARY/slackHookToken12345';
const ROUTING_KEY = 'PDkeyCanary0123456789abcdefABCDE';
const SMTP_USER = 'rotor';
const SMTP_PASS = 'smtpPassCanary-42';
const WEBHOOK_SECRET = 'webhookSecretCanary-0123456789';
const EVENTS: NotifyEvent[] = ['rotation.failed', 'rotation.succeeded'];

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const planted = notification({
  secretId: 'database/primary',
  step: 'verify',
  error: `password ${CANARY} was rejected`,
  hint: `do not paste ${CANARY} anywhere`,
  incident: `INC-${CANARY}`,
  summary: `rotation failed with ${CANARY}`,
  details: { leaked: CANARY, [`key-${CANARY}`]: 1 },
});

describe('leak canary', () => {
  it('no receiver sees a value the redact function removes', async () => {
    const http = await startHttpReceiver((req) => ({ status: req.path.includes('enqueue') ? 202 : 200 }));
    const smtp = await startSmtpReceiver(SMTP_USER, SMTP_PASS);
    open.push(http, smtp);
    const rec = recorder();
    const notifications = new Notifications(
      notifyConfig({
        slack: { type: 'slack', webhook: `${http.url}${SLACK_PATH}`, events: EVENTS },
        pd: { type: 'pagerduty', routingKey: ROUTING_KEY, url: `${http.url}/v2/enqueue`, events: EVENTS },
        mail: { type: 'email', smtp: `smtp://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${smtp.port}`, from: 'rotor@example.com', to: ['ops@example.com'], events: EVENTS },
        hook: { type: 'webhook', url: `${http.url}/hook`, secret: WEBHOOK_SECRET, events: EVENTS },
      }),
      { redact, retry: FAST_RETRY, ...rec },
    );
    open.push(notifications);
    notifications.emit(planted);
    notifications.emit({ ...planted, event: 'rotation.succeeded' });
    await notifications.drain(10_000);

    expect(rec.failed).toEqual([]);
    expect(rec.delivered).toHaveLength(8); // four notifiers, two events each (PagerDuty: trigger, then resolve)
    const seen = [
      ...http.received.map((r) => `${r.path}\n${JSON.stringify(r.headers)}\n${r.body}`),
      ...smtp.mails.map((m) => `${m.raw}\n${parseMail(m.raw).body}`),
    ].join('\n');
    expect(seen).toContain('[redacted]');
    expect(seen).not.toContain(CANARY);
    expect(JSON.stringify(rec.delivered)).not.toContain(CANARY);
  });

  it('no failure names a notifier credential, however the delivery failed', async () => {
    // Receivers that fail and echo back everything they were sent.
    const echo = await startHttpReceiver((req) => ({ status: 500, body: `${req.path} ${req.body} ${JSON.stringify(req.headers)}` }));
    const refuse = await startHttpReceiver((req) => ({ status: 400, body: `${req.path} ${req.body}` }));
    const smtp = await startSmtpReceiver(SMTP_USER, 'the-right-password');
    const port = await closedPort();
    open.push(echo, refuse, smtp);
    const rec = recorder();
    const configs = notifyConfig({
      slack500: { type: 'slack', webhook: `${echo.url}${SLACK_PATH}`, events: EVENTS },
      slackGone: { type: 'slack', webhook: `http://127.0.0.1:${port}${SLACK_PATH}`, events: EVENTS },
      pd400: { type: 'pagerduty', routingKey: ROUTING_KEY, url: `${refuse.url}/v2/enqueue`, events: EVENTS },
      pdGone: { type: 'pagerduty', routingKey: ROUTING_KEY, url: `http://127.0.0.1:${port}/v2/enqueue?key=${ROUTING_KEY}`, events: EVENTS },
      mailAuth: { type: 'email', smtp: `smtp://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${smtp.port}`, from: 'rotor@example.com', to: ['ops@example.com'], events: EVENTS },
      mailGone: { type: 'email', smtp: `smtp://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${port}`, from: 'rotor@example.com', to: ['ops@example.com'], events: EVENTS },
      hook500: { type: 'webhook', url: `${echo.url}/hook/${WEBHOOK_SECRET}`, secret: WEBHOOK_SECRET, events: EVENTS },
      hookGone: { type: 'webhook', url: `http://127.0.0.1:${port}/hook?s=${WEBHOOK_SECRET}`, secret: WEBHOOK_SECRET, events: EVENTS },
    });
    const notifications = new Notifications(configs, { redact, retry: FAST_RETRY, timeoutMs: 2_000, ...rec });
    open.push(notifications);
    expect(() => notifications.emit(planted)).not.toThrow();
    await notifications.drain(10_000);

    // Every notifier failed, and each said so at least once with willRetry=false.
    expect(new Set(rec.failed.filter((f) => !f.willRetry).map((f) => f.name))).toEqual(new Set(Object.keys(configs)));
    const reported = rec.failed.map((f) => [f.name, f.err.message, f.err.stack, String(f.err), inspect(f.err, { depth: 5 }), JSON.stringify(f.err), JSON.stringify(f.n)].join('\n')).join('\n');
    for (const credential of [SLACK_PATH, 'slackHookToken12345', ROUTING_KEY, SMTP_PASS, WEBHOOK_SECRET, CANARY]) {
      expect(reported).not.toContain(credential);
    }
    expect(reported).not.toMatch(/https?:\/\//);
    expect(reported).not.toContain(`:${port}`);
    // The messages say what failed, by notifier name.
    expect(rec.failed.map((f) => f.err.message)).toEqual(
      expect.arrayContaining([
        'slack notifier `slack500`: HTTP 500',
        'slack notifier `slackGone`: request failed (ECONNREFUSED)',
        'pagerduty notifier `pd400`: HTTP 400',
        'email notifier `mailAuth`: SMTP 535 (EAUTH)',
        'webhook notifier `hook500`: HTTP 500',
        'email notifier `mailGone`: sending failed (ESOCKET)',
      ]),
    );
  });
});
