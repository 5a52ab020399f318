/**
 * The one way Rotor rewrites a file another program reads (a consumer's `.env`, a rendered
 * template, a published key set):
 *
 * - the path is resolved and checked first (fs/safe-path.ts): a symlink is followed and
 *   kept, the file it points to is updated — unless a less privileged user could have
 *   aimed it, or could swap the file;
 * - a lock across processes (fs/file-lock.ts) is held from the read to the rename, so two
 *   Rotor runs writing one file both land;
 * - the file read is the file checked (same inode, opened without following a link);
 * - the text replaced goes to `backups` (sealed, never plaintext), when given;
 * - the new text replaces the file atomically with the original's owner, group and mode,
 *   set on the temp file before the rename (fs/atomic.ts). A new file is 0600 (or
 *   `newMode`), owned by Rotor — or by the directory's owner, a service user who could
 *   replace it anyway.
 *
 * Nothing is written when the text is unchanged or `render` throws.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RotorError } from '../errors.js';
import { ensureDir, writeFileAtomic } from './atomic.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';
import { resolveTarget, UnsafePathError, type Target } from './safe-path.js';
import { describeUid } from './users.js';

/** Where Rotor keeps the text a delivery replaced (backup/delivery-backups.ts seals it). */
export interface DeliveryBackups {
  /** Keeps `text`, the content `file` had; returns where, or undefined when none is kept. */
  save(file: string, text: string): Promise<string | undefined>;
}

export interface ReplaceOptions {
  /** Where the replaced text goes; without it, no copy is kept. */
  backups?: DeliveryBackups;
  /** The mode of a file that does not exist yet (default 0600). */
  newMode?: number;
  lock?: FileLockOptions;
}

export interface FileChange {
  changed: boolean;
  /** Where the replaced text was kept, when it was. */
  backup?: string;
  /** The file written, when a symlink led to it. */
  real?: string;
}

/** Replaces the file at `path` with `render(its text)`; see the module comment. */
export async function replaceFile(path: string, render: (before: string | undefined) => string, opts: ReplaceOptions = {}): Promise<FileChange> {
  const first = resolveTarget(path);
  // Several secrets of one run often deliver into one file: one at a time in this process
  // (cheap), and one at a time across processes (the lock file).
  return serialized(first.real, async () => {
    await ensureDir(dirname(first.real), 0o755);
    return withFileLock(first.real, async () => {
      const target = resolveTarget(path);
      if (target.real !== first.real) throw new UnsafePathError(path, `changed while Rotor was about to write it (it led to ${first.real}, now to ${target.real})`, 'find out who changes the link, then run again');
      return replaceLocked(target, render, opts);
    }, opts.lock);
  });
}

async function replaceLocked(target: Target, render: (before: string | undefined) => string, opts: ReplaceOptions): Promise<FileChange> {
  const before = readChecked(target);
  const after = render(before);
  if (after === before) return { changed: false };
  const backup = before === undefined ? undefined : await opts.backups?.save(target.real, before);
  const st = target.stat;
  const owner = st ? { uid: st.uid, gid: st.gid } : target.newOwner;
  try {
    await writeFileAtomic(target.real, after, { mode: st ? st.mode & 0o7777 : opts.newMode ?? 0o600, owner });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EPERM' || e.syscall !== 'fchown' || !owner) throw err;
    // Rewritten under another owner, the file could no longer be read by the service it is for.
    throw new RotorError(`${target.real} belongs to ${describeUid(owner.uid)}, and Rotor (${describeUid(process.geteuid?.() ?? 0)}) cannot give its new version that owner`, {
      outcome: 'rolled-back', hint: 'run Rotor as root, or as the user that owns the file', cause: err,
    });
  }
  return { changed: true, backup, ...(target.links.length ? { real: target.real } : {}) };
}

/** The file's text, read from the very file that was checked (no link followed, same inode). */
export function readChecked(target: Target): string | undefined {
  if (!target.stat) return undefined;
  const fd = openSync(target.real, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const now = fstatSync(fd);
    if (now.ino !== target.stat.ino || now.dev !== target.stat.dev) {
      throw new UnsafePathError(target.real, 'was replaced while Rotor was about to write it', 'find out what replaces it, then run again');
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const pending = new Map<string, Promise<unknown>>();
function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (pending.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = run.catch(() => {});
  pending.set(key, settled);
  void settled.then(() => {
    if (pending.get(key) === settled) pending.delete(key);
  });
  return run;
}
