/**
 * A lock on one file across processes: two Rotor runs (two configs, a CLI run beside the
 * daemon) delivering into one `.env` would otherwise each read it, each set their keys
 * and each rename their copy over the other's — and both exit 0 with one update lost.
 *
 * The lock is a file beside the locked one, `.<name>.rotor-lock`, created with O_EXCL
 * (which never follows a link) and holding who took it: pid, host, boot and time. It is
 * held from the read to the rename. A lock whose holder is gone — its pid no longer runs
 * on this host, or this host has rebooted since — or that is older than `staleMs` (a
 * holder on another host sharing the file system, or a reused pid) is broken; any other
 * is waited for, up to `timeoutMs`.
 *
 * @example
 * await withFileLock('/srv/api/.env', async () => { read; edit; rename });
 */
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RotorError } from '../errors.js';

export interface FileLockOptions {
  /** Give up waiting for a live holder after this long (default 60 s). */
  timeoutMs?: number;
  /** A lock older than this is stale whoever holds it (default 120 s; a lock is held for milliseconds). */
  staleMs?: number;
}

/** Another process held the file for longer than Rotor waits. */
export class FileLockedError extends RotorError {
  constructor(file: string, lock: string, holder: string) {
    super(`${file} is being written by another process (${holder})`, {
      outcome: 'rolled-back',
      hint: `wait for it to finish; if no Rotor process runs, remove ${lock}`,
    });
  }
}

interface Holder {
  pid: number;
  host: string;
  boot: string;
  at: number;
}

export function lockPathOf(file: string): string {
  return join(dirname(file), `.${basename(file)}.rotor-lock`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const lock = lockPathOf(file);
  const ino = await acquire(file, lock, { timeoutMs: opts.timeoutMs ?? 60_000, staleMs: opts.staleMs ?? 120_000 });
  try {
    return await fn();
  } finally {
    release(lock, ino);
  }
}

async function acquire(file: string, lock: string, opts: Required<FileLockOptions>): Promise<number> {
  const deadline = Date.now() + opts.timeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    const ino = tryCreate(lock);
    if (ino !== undefined) return ino;
    const seen = readHolder(lock);
    if (seen === undefined) continue; // released between our attempt and the read
    if (isStale(seen.holder, opts.staleMs)) {
      breakStale(lock, seen.ino);
      continue;
    }
    if (Date.now() >= deadline) throw new FileLockedError(file, lock, describe(seen.holder));
    await sleep(wait + Math.random() * wait);
  }
}

function tryCreate(lock: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  try {
    const holder: Holder = { pid: process.pid, host: hostname(), boot: bootId(), at: Date.now() };
    writeSync(fd, JSON.stringify(holder));
    return fstatSync(fd).ino;
  } finally {
    closeSync(fd);
  }
}

/** The holder, or undefined when the lock is gone. A lock not yet written (its holder is between open and write, or died there) is dated by its mtime. */
function readHolder(lock: string): { holder: Holder; ino: number } | undefined {
  let fd: number;
  try {
    fd = openSync(lock, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    let holder: Partial<Holder> = {};
    try {
      holder = JSON.parse(text) as Partial<Holder>;
    } catch {
      // Half-written or foreign: only its age can tell.
    }
    const at = typeof holder.at === 'number' ? holder.at : st.mtimeMs;
    return { holder: { pid: Number(holder.pid) || 0, host: String(holder.host ?? ''), boot: String(holder.boot ?? ''), at }, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

function isStale(h: Holder, staleMs: number): boolean {
  if (Date.now() - h.at > staleMs) return true;
  if (h.host !== hostname() || !h.pid) return false;
  if (h.boot && bootId() && h.boot !== bootId()) return true;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes a stale lock — and only that one: two waiters may judge it stale together, and
 * the slower must not delete the lock the faster has just taken. So the lock is first
 * renamed to a name of our own (atomic), and deleted only if it is the file judged stale;
 * a fresh lock taken by mistake is linked back (link() fails rather than replace a third).
 */
function breakStale(lock: string, staleIno: number): void {
  const aside = `${lock}.stale-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lock, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (lstatSync(aside).ino !== staleIno) {
    try {
      linkSync(aside, lock);
    } catch {
      // A third process holds the lock now; the one we moved will find its lock gone and not remove another.
    }
  }
  unlinkSync(aside);
}

/** Removes the lock if it is still ours (a holder judged stale may have lost it). */
function release(lock: string, ino: number): void {
  try {
    if (lstatSync(lock).ino === ino) unlinkSync(lock);
  } catch {
    // Gone already.
  }
}

let boot: string | undefined;
function bootId(): string {
  if (boot === undefined) {
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      boot = '';
    }
  }
  return boot;
}

function describe(h: Holder): string {
  const age = Math.max(0, Math.round((Date.now() - h.at) / 1000));
  return `pid ${h.pid || '?'} on ${h.host || 'an unknown host'}, for ${age}s`;
}
