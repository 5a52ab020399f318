/**
 * Applies assignments to a config file safely: parse first (a file Rotor cannot parse is
 * left alone), copy the original to a backup, then replace the file atomically with its
 * original mode and owner. A crash at any moment leaves the old file or the new one.
 */
import { chmodSync, copyFileSync, chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  const exists = existsSync(path);
  const before = exists ? readFileSync(path, 'utf8') : '';
  const after = format.edit(before, assignments);
  if (exists && after === before) return { changed: false };
  const st = exists ? statSync(path) : undefined;
  let backup: string | undefined;
  if (exists) {
    await ensureDir(opts.backupDir);
    const stamp = (opts.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
    backup = join(opts.backupDir, `${basename(path)}.${stamp}`);
    copyFileSync(path, backup);
    chmodSync(backup, 0o600); // it holds the old secret: owner only, whatever the original allowed
  }
  await ensureDir(dirname(path), 0o755);
  await writeFileAtomic(path, after, { mode: st ? st.mode & 0o7777 : 0o600 });
  if (st && process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) chownSync(path, st.uid, st.gid);
  return { changed: true, backup };
}
