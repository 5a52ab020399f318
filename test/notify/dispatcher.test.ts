import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifications } from '../../src/notify/dispatcher.js';
import { backoffMs } from '../../src/notify/lane.js';
import { FAST_RETRY, notification, notifyConfig, recorder, startHttpReceiver, waitFor, type HttpReceiver } from './receivers.js';

const SECRET = 'whsec-0123456789abcdef';
const hook = (url: string, events = ['rotation.failed']) => ({ type: 'webhook', url, secret: SECRET, events });

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});
async function receiverWith(...args: Parameters<typeof startHttpReceiver>): Promise<HttpReceiver> {
  const r = await startHttpReceiver(...args);
  open.push(r);
  return r;
}
function start(raw: unknown, opts: Partial<ConstructorParameters<typeof Notifications>[1]> = {}) {
  const rec = recorder();
  const n = new Notifications(notifyConfig(raw), { redact: (s) => s, retry: FAST_RETRY, ...rec, ...opts });
  open.push(n);
  return { notifications: n, ...rec };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('Notifications', () => {
  it('retries: a receiver failing twice gets the same notification three times, delivered once', async () => {
    const receiver = await receiverWith((_req, i) => ({ status: i < 2 ? 503 : 200 }));
    const { notifications, delivered, failed } = start({ hook: hook(receiver.url) });
    notifications.emit(notification());
    await notifications.drain(5_000);

    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.headers['rotor-delivery'])).size).toBe(1);
    expect(delivered).toHaveLength(1);
    expect(failed.map((f) => [f.err.message, f.willRetry])).toEqual([
      ['webhook notifier `hook`: HTTP 503', true],
      ['webhook notifier `hook`: HTTP 503', true],
    ]);
  });

  it('gives up after its attempts; emit never throws and other notifiers still deliver', async () => {
    const down = await receiverWith(() => ({ status: 500 }));
    const up = await receiverWith(() => ({ status: 200 }));
    const { notifications, delivered, failed } = start({ down: hook(down.url), up: hook(up.url) });
    expect(() => notifications.emit(notification())).not.toThrow();
    await notifications.drain(5_000);

    expect(down.received).toHaveLength(FAST_RETRY.attempts);
    expect(up.received).toHaveLength(1);
    expect(delivered.map((d) => d.name)).toEqual(['up']);
    expect(failed.map((f) => [f.name, f.willRetry])).toEqual([
      ['down', true],
      ['down', true],
      ['down', false],
    ]);
    expect(failed.every((f) => f.n.summary === notification().summary)).toBe(true);
  });

  it('does not retry what the receiver refused (4xx), and waits as long as Retry-After asks', async () => {
    const refusing = await receiverWith(() => ({ status: 404 }));
    const limited = await receiverWith((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
    const { notifications, delivered, failed } = start({ refusing: hook(refusing.url), limited: hook(limited.url) });
    notifications.emit(notification());
    await notifications.drain(5_000);
    expect(refusing.received).toHaveLength(1);
    expect(limited.received).toHaveLength(2);
    expect(delivered.map((d) => d.name)).toEqual(['limited']);
    expect(failed.map((f) => [f.err.message, f.willRetry])).toEqual(
      expect.arrayContaining([
        ['webhook notifier `refusing`: HTTP 404', false],
        ['webhook notifier `limited`: HTTP 429', true],
      ]),
    );
    expect(backoffMs({ attempts: 5, initialMs: 1000, maxMs: 60_000 }, 1)).toBe(1000);
    expect(backoffMs({ attempts: 5, initialMs: 1000, maxMs: 60_000 }, 4)).toBe(8000);
    expect(backoffMs({ attempts: 5, initialMs: 1000, maxMs: 60_000 }, 9)).toBe(60_000);
    expect(backoffMs({ attempts: 5, initialMs: 1000, maxMs: 60_000 }, 1, 30_000)).toBe(30_000);
    expect(backoffMs({ attempts: 5, initialMs: 1000, maxMs: 60_000 }, 1, 3_600_000)).toBe(60_000);
  });

  it('sends each notifier only the events it names', async () => {
    const failures = await receiverWith();
    const reminders = await receiverWith();
    const { notifications, delivered } = start({
      failures: hook(failures.url, ['rotation.failed', 'rotation.rolled-back']),
      reminders: hook(reminders.url, ['secret.due-soon']),
    });
    notifications.emit(notification());
    notifications.emit(notification({ event: 'secret.due-soon' }));
    notifications.emit(notification({ event: 'rotation.rolled-back' }));
    notifications.emit(notification({ event: 'emergency.started' }));
    await notifications.drain(5_000);
    const events = (r: HttpReceiver) => r.received.map((q) => (JSON.parse(q.body) as { event: string }).event);
    expect(events(failures)).toEqual(['rotation.failed', 'rotation.rolled-back']);
    expect(events(reminders)).toEqual(['secret.due-soon']);
    expect(delivered).toHaveLength(3);
  });

  it('describes an unreachable receiver and one that does not answer in time', async () => {
    const port = await closedPort();
    const silent = await receiverWith(() => new Promise(() => undefined));
    const { notifications, failed } = start(
      { gone: hook(`http://127.0.0.1:${port}/x`), silent: hook(silent.url) },
      { retry: { attempts: 1, initialMs: 20, maxMs: 20 }, timeoutMs: 100 },
    );
    notifications.emit(notification());
    await notifications.drain(5_000);
    expect(failed.map((f) => [f.name, f.err.message, f.willRetry]).sort()).toEqual([
      ['gone', 'webhook notifier `gone`: request failed (ECONNREFUSED)', false],
      ['silent', 'webhook notifier `silent`: no answer in time', false],
    ]);
  });

  it('keeps a bounded queue per notifier, dropping (and reporting) the oldest', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await receiverWith(async () => {
      await held;
      return { status: 200 };
    });
    const { notifications, delivered, failed } = start({ slow: hook(slow.url) }, { maxQueue: 2 });
    notifications.emit(notification({ rotationId: 'r1' }));
    await waitFor(() => slow.received.length === 1);
    // r1 is in flight, out of the queue; r2 and r3 are dropped as r4 and r5 arrive.
    for (const id of ['r2', 'r3', 'r4', 'r5']) notifications.emit(notification({ rotationId: id }));
    release();
    await notifications.drain(5_000);
    expect(failed.map((f) => [f.n.rotationId, f.err.message, f.willRetry])).toEqual([
      ['r2', 'webhook notifier `slow`: queue full (2); oldest notification dropped', false],
      ['r3', 'webhook notifier `slow`: queue full (2); oldest notification dropped', false],
    ]);
    expect(delivered.map((d) => d.n.rotationId)).toEqual(['r1', 'r4', 'r5']);
  });

  it('drain gives up after its timeout; close aborts what is in flight and reports what is queued', async () => {
    const silent = await receiverWith(() => new Promise(() => undefined));
    const { notifications, delivered, failed } = start({ silent: hook(silent.url) }, { timeoutMs: 60_000 });
    notifications.emit(notification({ rotationId: 'r1' }));
    notifications.emit(notification({ rotationId: 'r2' }));
    const started = Date.now();
    await notifications.drain(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    await notifications.close();
    expect(delivered).toEqual([]);
    expect(failed.map((f) => [f.n.rotationId, f.willRetry])).toEqual([
      ['r1', false],
      ['r2', false],
    ]);
    // After close, emit still never throws; the notification is reported dropped.
    expect(() => notifications.emit(notification({ rotationId: 'r3' }))).not.toThrow();
    expect(failed.at(-1)?.n.rotationId).toBe('r3');
  });

  it('survives a redact function and callbacks that throw', async () => {
    const receiver = await receiverWith();
    const failed: string[] = [];
    const n = new Notifications(notifyConfig({ hook: hook(receiver.url) }), {
      redact: (s) => {
        if (s.includes('boom')) throw new Error(`cannot redact ${s}`);
        return s;
      },
      onDelivered: () => {
        throw new Error('logger down');
      },
      onFailed: (_name, n, err) => failed.push(`${n.summary} | ${err.message}`),
    });
    open.push(n);
    expect(() => n.emit(notification({ error: 'boom value' }))).not.toThrow();
    n.emit(notification());
    await n.drain(5_000);
    expect(failed).toEqual(['(withheld: redaction failed) | notifier `hook`: redaction failed; notification dropped']);
    expect(receiver.received).toHaveLength(1);
  });
});
