/**
 * Issue 12, item 12: what `watchJsonFile` promises when things go wrong — a throwing
 * `onError` never crashes the process, nothing is delivered after `close()`, and `ready`
 * rejects when there is no usable file yet (the watcher still picks the file up later).
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { watchJsonFile, type Watcher } from '../../src/client/watch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `ok()` holds (a busy machine can delay a 20 ms watcher a lot), or 5 s have passed. */
const until = async (ok: () => boolean) => {
  for (const end = Date.now() + 5000; !ok() && Date.now() < end; ) await sleep(10);
};
let dir: string;
let path: string;
const watchers: Watcher[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rotor-watch-'));
  path = join(dir, 'cred.json');
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  watchers.splice(0).forEach((w) => w.close());
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});
const deliver = (value: unknown) => {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
};

it('an onError that throws is reported as a warning, never an unhandled rejection, and the watcher keeps going', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    deliver({ user: 'one' });
    const seen: unknown[] = [];
    let errors = 0;
    const w = watchJsonFile(path, (v) => void seen.push(v), { intervalMs: 20, onError: () => { errors++; throw new Error('logger is down'); } });
    watchers.push(w);
    await w.ready;
    writeFileSync(path, '{"half": '); // a later look fails, and onError throws
    await until(() => errors > 2 || unhandled.length > 0);
    expect(unhandled).toEqual([]);
    expect(errors).toBeGreaterThan(2); // the same broken file, tried at every look
    deliver({ user: 'two' });
    await until(() => seen.length > 1);
    expect(seen).toEqual([{ user: 'one' }, { user: 'two' }]);
    const reported = warnings.filter((x) => (x as Error & { code?: string }).code === 'ROTOR_WATCH_ON_ERROR_THREW');
    expect(reported).toHaveLength(1); // once per watcher, not at every look
    expect(reported[0]!.message).toMatch(/onError threw: logger is down/);
  } finally {
    process.off('warning', onWarning);
  }
});

it('never calls onChange or onError after close(), even with a look already under way', async () => {
  deliver({ v: 1 });
  const calls: string[] = [];
  const w = watchJsonFile(path, (v: { v: number }) => void calls.push(`change ${v.v}`), { intervalMs: 10, onError: (e) => void calls.push(`error ${String(e)}`) });
  w.close(); // the first look has started (stat is pending): it must deliver nothing
  await expect(w.ready).rejects.toThrow(/was closed/);
  deliver({ v: 2 });
  await sleep(100);
  expect(calls).toEqual([]);

  const later = watchJsonFile(path, (v: { v: number }) => void calls.push(`change ${v.v}`), { intervalMs: 10 });
  await later.ready;
  later.close();
  deliver({ v: 3 });
  await sleep(100);
  expect(calls).toEqual(['change 2']);
  expect(unhandled).toEqual([]);
});

it('ready rejects when the file is missing; the watcher delivers it once it appears; an ignored ready crashes nothing', async () => {
  const seen: unknown[] = [];
  const errors: unknown[] = [];
  const w = watchJsonFile(path, (v) => void seen.push(v), { intervalMs: 20, onError: (e) => void errors.push(e) });
  watchers.push(w);
  await expect(w.ready).rejects.toMatchObject({ code: 'ENOENT' });
  expect(errors[0]).toMatchObject({ code: 'ENOENT' });
  expect(seen).toEqual([]);
  deliver({ user: 'svc' });
  await until(() => seen.length > 0);
  expect(seen).toEqual([{ user: 'svc' }]);

  watchers.push(watchJsonFile(join(dir, 'never.json'), () => {}, { intervalMs: 20 })); // ready never awaited
  await sleep(50);
  expect(unhandled).toEqual([]);
});

it('ready rejects with the error of an onChange that refuses the first value', async () => {
  deliver({ user: 'svc' });
  const w = watchJsonFile(path, () => { throw new Error('credential does not work'); }, { intervalMs: 20 });
  watchers.push(w);
  await expect(w.ready).rejects.toThrow('credential does not work');
});
