/**
 * The schedule of a real `rotor serve`, watched through its log lines: windows defer due
 * rotations, a failing target backs off (exponential, capped) without holding up other
 * secrets, `remind` notifies once per due time, a failed scheduled rotation is notified
 * (rolled back, overdue) through a signed webhook, and neither log nor payload carries a
 * value.
 */
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, startServe, type LogLine, type ServeProcess } from '../helpers/daemon.js';
import { Sandbox } from '../helpers/sandbox.js';
import { startHttpReceiver, type HttpReceiver } from '../notify/receivers.js';
import { verifySignature } from '../../src/notify/index.js';
import { expectCleanLogs, hhmm, ms, storedSecretValues } from './checks.js';

const sandboxes: Sandbox[] = [];
let d: ServeProcess | undefined;
let receiver: HttpReceiver | undefined;
afterEach(async () => {
  d?.signal('SIGKILL');
  d = undefined;
  await receiver?.close();
  receiver = undefined;
});
afterAll(() => sandboxes.forEach((s) => s.remove()));

function sandbox(config: string): Sandbox {
  const sb = new Sandbox(config);
  sandboxes.push(sb);
  return sb;
}

const finished = (id: string) => (l: { event?: string; secret?: unknown }) => l.event === 'rotation.finished' && l.secret === id;

interface StatusJson {
  secrets: { id: string; currentVersion: number | null; dueAt: number | null; overdue: boolean }[];
}

describe('rotor serve: windows', () => {
  it('a closed window defers a due rotation (status shows it due); an open one lets it run; SIGHUP opening it lets it run', async () => {
    const closed = `{ from: "${hhmm(120)}", to: "${hhmm(180)}" }`;
    const open = `{ from: "${hhmm(-60)}", to: "${hhmm(60)}" }`;
    const config = (w: string) => `version: 1
serve: { tick: 100ms }
secrets:
  - { id: win/closed, type: random, interval: 1h, window: ${w} }
  - { id: win/open, type: random, interval: 1h, window: ${open} }
  - { id: win/ticker, type: random, interval: 1s, grace: 100ms }
`;
    const sb = sandbox(config(closed));
    await sb.ok(['init']);
    d = await startServe(sb);
    await d.waitFor((l) => finished('win/open')(l) && l.status === 'grace');
    // Several ticks later (the 1s secret rotated three times), the closed one has not run.
    const firstTicker = await d.waitFor((l) => finished('win/ticker')(l) && l.version === 1);
    await d.waitFor((l) => finished('win/ticker')(l) && l.version === 3);
    expect(ms((await d.waitFor((l) => finished('win/ticker')(l) && l.version === 3)).time) - ms(firstTicker.time)).toBeGreaterThanOrEqual(1900);
    expect(d.all((l) => finished('win/closed')(l) || (l.event === 'schedule.rotate' && JSON.stringify(l.secrets).includes('win/closed')))).toEqual([]);
    const status = await sb.json<StatusJson>(['status']);
    const c = status.secrets.find((s) => s.id === 'win/closed')!;
    expect(c).toMatchObject({ currentVersion: null, overdue: true });
    expect(c.dueAt).not.toBeNull();
    expect(c.dueAt!).toBeLessThanOrEqual(Date.now());

    // The operator opens the window: the next tick runs it.
    sb.write('rotor.yaml', config(open));
    d.signal('SIGHUP');
    await d.waitFor((l) => l.event === 'config.reloaded');
    await d.waitFor((l) => finished('win/closed')(l) && l.status === 'grace', 15_000);
    // And the schedule still runs after the reload (the ticker goes on).
    const n = d.all(finished('win/ticker')).length;
    await d.waitFor((l) => finished('win/ticker')(l) && (l.version as number) > n + 1, 15_000);
    await d.stop();
    expectCleanLogs(d, await storedSecretValues(sb, ['win/closed', 'win/open', 'win/ticker']));
  });
});

describe('rotor serve: backoff', () => {
  it('a target on a closed port backs off 1s, 2s, 4s, 4s and is never retried early; a 2s secret keeps rotating meanwhile', async () => {
    const port = await freePort(); // nobody listens there
    const sb = sandbox(`version: 1
serve: { tick: 100ms, retry: { initial: 1s, max: 4s } }
targets:
  dead: { type: postgres, url: "postgres://postgres:not-a-real-password@127.0.0.1:${port}/postgres" }
secrets:
  - { id: db/dead, type: postgres-password, target: dead, strategy: single, username: app, interval: 1h }
  - { id: app/fast, type: random, interval: 2s, grace: 100ms }
`);
    await sb.ok(['init']);
    d = await startServe(sb);
    const backoff = (n: number) => (l: { event?: string; secret?: unknown; attempts?: unknown }) => l.event === 'schedule.backoff' && l.secret === 'db/dead' && l.attempts === n;
    const lines: LogLine[] = [];
    for (const n of [1, 2]) lines.push(await d.waitFor(backoff(n), 20_000));
    // A SIGHUP (the same file: a config-management run) does not wipe the backoff: no early retry.
    d.signal('SIGHUP');
    await d.waitFor((l) => l.event === 'config.reloaded');
    for (const n of [3, 4]) lines.push(await d.waitFor(backoff(n), 20_000));
    const waits = lines.map((l) => ms(l.retryAt) - ms(l.time));
    // initial 1s doubling to the 4s cap, with at most 10% jitter and never past the cap
    expect(waits[0]).toBeGreaterThanOrEqual(950);
    expect(waits[0]).toBeLessThanOrEqual(1200);
    expect(waits[1]).toBeGreaterThanOrEqual(1950);
    expect(waits[1]).toBeLessThanOrEqual(2300);
    for (const w of waits.slice(2)) {
      expect(w).toBeGreaterThanOrEqual(3950);
      expect(w).toBeLessThanOrEqual(4050);
    }
    // Each retry started no earlier than the retryAt before it.
    const starts = d.all((l) => l.event === 'schedule.rotate' && JSON.stringify(l.secrets).includes('db/dead'));
    expect(starts.length).toBe(4);
    for (let i = 1; i < starts.length; i++) expect(ms(starts[i]!.time)).toBeGreaterThanOrEqual(ms(lines[i - 1]!.retryAt));
    // Nothing else failed, and the 2s secret rotated all along (about 11 s of backoff: at least 4 times).
    const fast = d.all((l) => finished('app/fast')(l) && l.status === 'grace');
    expect(fast.length).toBeGreaterThanOrEqual(4);
    expect(fast.filter((l) => ms(l.time) > ms(lines[2]!.time)).length).toBeGreaterThanOrEqual(1);
    expect(d.all((l) => l.event === 'schedule.backoff' && l.secret !== 'db/dead')).toEqual([]);
    // The failure is logged with what went wrong, not the admin URL's password.
    const failed = d.all(finished('db/dead'));
    expect(failed.length).toBe(4);
    expect(d.output()).not.toContain('not-a-real-password');
    await d.stop();
    expectCleanLogs(d, await storedSecretValues(sb, ['app/fast']));
  });
});

describe('rotor serve: reminders and failure notifications', () => {
  it('remind: due-soon arrives once; a scheduled rotation rolled back sends rotation.rolled-back and secret.overdue, signed, without values', async () => {
    const hookSecret = 'whsec-test-0123456789abcdef';
    receiver = await startHttpReceiver();
    const config = `version: 1
serve: { tick: 100ms, retry: { initial: 2s, max: 2s } }
stores:
  app-env: { type: env-file, path: ./app.env }
consumers:
  flaky:
    deliver: [{ store: app-env, key: FLAKY }]
    health: [{ command: [sh, -c, 'test ! -e "$0"', FAILFLAG], retries: 0 }]
notify:
  hook:
    type: webhook
    url: ${receiver.url}/rotor
    secret: ${hookSecret}
    events: [secret.due-soon, rotation.succeeded, rotation.rolled-back, secret.overdue]
secrets:
  - { id: app/soon, type: random, interval: 15d, remind: 14d, grace: 1h }
  - { id: app/flaky, type: random, interval: 1h, grace: 100ms, consumers: [flaky] }
`;
    const sb = sandbox('');
    sb.write('rotor.yaml', config.replace('FAILFLAG', sb.path('fail')));
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/soon', 'app/flaky', '--no-grace']);
    // 14.5 days pass for app/soon: due in half a day, inside its 14-day notice.
    const db = new Database(sb.path('.rotor', 'state.db'));
    db.prepare("UPDATE versions SET stage_changed_at = stage_changed_at - ?, created_at = created_at - ? WHERE secret_id = 'app/soon' AND stage = 'current'").run(14.5 * 86_400_000, 14.5 * 86_400_000);
    // app/flaky's value is two hours old: overdue by an hour.
    db.prepare("UPDATE versions SET stage_changed_at = stage_changed_at - ?, created_at = created_at - ? WHERE secret_id = 'app/flaky' AND stage = 'current'").run(7_200_000, 7_200_000);
    db.close();
    sb.write('fail', ''); // app/flaky's health check fails from now on
    d = await startServe(sb);

    await d.waitFor((l) => finished('app/flaky')(l) && l.status === 'rolled-back', 20_000);
    // A rollback does not make the old value young again: it is still overdue, retried after the backoff (2s).
    await d.waitFor((l) => l.event === 'schedule.backoff' && l.secret === 'app/flaky' && l.attempts === 2, 20_000);
    const flaky = (await sb.json<StatusJson>(['status'])).secrets.find((s) => s.id === 'app/flaky')!;
    expect(flaky.overdue).toBe(true);
    const events = () => receiver!.received.map((r) => JSON.parse(r.body) as { event: string; secretId: string });
    const deadline = Date.now() + 10_000;
    while (!events().some((e) => e.event === 'secret.overdue') || events().filter((e) => e.event === 'rotation.rolled-back').length < 2) {
      if (Date.now() > deadline) throw new Error(`notifications so far: ${JSON.stringify(events())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await d.stop();

    for (const r of receiver.received) {
      expect(r.path).toBe('/rotor');
      expect(verifySignature(r.headers['rotor-signature'] as string, r.body, hookSecret, 300), 'Rotor-Signature verifies').toBe(true);
      expect(verifySignature(r.headers['rotor-signature'] as string, r.body, 'another-secret-0123456789', 300)).toBe(false);
    }
    const got = events();
    // due-soon: once for app/soon, though dozens of ticks saw it inside the notice.
    expect(got.filter((e) => e.event === 'secret.due-soon')).toEqual([expect.objectContaining({ secretId: 'app/soon' })]);
    expect(got.filter((e) => e.event === 'rotation.rolled-back').every((e) => e.secretId === 'app/flaky')).toBe(true);
    // overdue: once per due time, not once per retry
    expect(got.filter((e) => e.event === 'secret.overdue')).toEqual([expect.objectContaining({ secretId: 'app/flaky' })]);
    expect(got.filter((e) => e.event === 'rotation.succeeded')).toEqual([]);
    // No payload holds a value (every version, including the rolled-back ones).
    const values = await storedSecretValues(sb, ['app/soon', 'app/flaky']);
    expect(values.length).toBeGreaterThanOrEqual(4);
    const bodies = receiver.received.map((r) => r.body).join('\n');
    for (const v of values) expect(bodies.includes(v), 'a value in a notification').toBe(false);
    expect(bodies).not.toContain(hookSecret);
    expectCleanLogs(d, values);
  });
});
