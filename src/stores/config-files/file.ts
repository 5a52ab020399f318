/**
 * Applies assignments to a config file safely: parse first (a file Rotor cannot parse is
 * left alone), copy the original to a backup, then replace the file atomically with its
 * original mode and owner. A crash at any moment leaves the old file or the new one.
 */
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../fs/atomic.js';
import { envFile } from './env-file.js';
import { jsonFile } from './json-file.js';
import { yamlFile } from './yaml-file.js';
import type { Assignment, FileFormat } from './types.js';

export const FILE_FORMATS: Record<FileFormat['name'], FileFormat> = { 'env-file': envFile, json: jsonFile, yaml: yamlFile };

export interface FileChange {
  changed: boolean;
  /** Where the original was copied, when there was one. */
  backup?: string;
}

export async function assignInFile(format: FileFormat, path: string, assignments: Assignment[], opts: { backupDir: string; now?: Date }): Promise<FileChange> {
  return replaceFile(path, (before) => format.edit(before ?? '', assignments), opts);
}

/**
 * Replaces `path` with `render(its text)` — the shared safe part of every delivery into a
 * file: nothing happens when the text is unchanged or `render` throws; otherwise the
 * original goes to a 0600 backup and the new text replaces it atomically with the
 * original's mode and owner (0600 for a new file).
 */
export function replaceFile(path: string, render: (before: string | undefined) => string, opts: { backupDir: string; now?: Date }): Promise<FileChange> {
  return serialized(resolve(path), () => replaceNow(path, render, opts));
}

/**
 * Read-modify-write of one file, one at a time: several secrets of one run often deliver
 * into the same .env, and two overlapping edits would each write back the other's old text.
 */
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

async function replaceNow(path: string, render: (before: string | undefined) => string, opts: { backupDir: string; now?: Date }): Promise<FileChange> {
  const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const after = render(before);
  if (after === before) return { changed: false };
  const st = before === undefined ? undefined : statSync(path);
  let backup: string | undefined;
  if (before !== undefined) {
    await ensureDir(opts.backupDir);
    const stamp = (opts.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
    // From the text in hand, created 0600: it holds the old secret, and a copy would exist
    // for a moment with the original's (perhaps world-readable) mode.
    backup = writeNewFile(join(opts.backupDir, `${basename(path)}.${stamp}`), before);
  }
  await ensureDir(dirname(path), 0o755);
  await writeFileAtomic(path, after, { mode: st ? st.mode & 0o7777 : 0o600 });
  if (st && process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) chownSync(path, st.uid, st.gid);
  return { changed: true, backup };
}

/**
 * Writes a file that did not exist (0600), as `base` or `base.1`, `base.2`…: several secrets
 * of one run deliver into one file within the same millisecond, and the first backup — the
 * file as it was before the run — must not be overwritten by the next.
 */
function writeNewFile(base: string, text: string): string {
  for (let n = 0; ; n++) {
    const path = n ? `${base}.${n}` : base;
    try {
      writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
