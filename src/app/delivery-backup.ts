/**
 * The copies deliveries kept of the files they replaced (backup/delivery-backups.ts): list
 * them, put one back through the same safe replace a delivery uses (keeping what it
 * replaces as a copy, so a restore can be undone the same way), and seal the plaintext
 * copies older versions of Rotor left behind.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { listDeliveryBackups, type BackedUpFile } from '../backup/delivery-backups.js';
import { legacyCopies } from '../backup/legacy-copies.js';
import type { RotorConfig } from '../config/schema.js';
import { NotFoundError, UsageError } from '../errors.js';
import { resolveTarget } from '../fs/safe-path.js';
import { replaceFile } from '../fs/safe-replace.js';
import { deliveryBackupsDir, stateAudit, withEngine } from './engine.js';

/** Every file with copies, newest copy first, and how many plaintext legacy copies remain. No master key needed. */
export function listFileCopies(config: RotorConfig): { files: BackedUpFile[]; legacyPlaintext: number } {
  return { files: listDeliveryBackups(deliveryBackupsDir(config)), legacyPlaintext: legacyCopies(config).length };
}

/** The file `path` names among those with copies: as given, or the file its links lead to. */
function fileOf(files: BackedUpFile[], path: string): BackedUpFile {
  const given = resolve(path);
  let real: string | undefined;
  try {
    real = resolveTarget(given).real;
  } catch {
    // The file may be gone or unsafe now; its copies are still found by the path given.
  }
  const found = files.find((f) => f.file === given || f.file === real);
  if (!found) throw new NotFoundError(`no copies of ${given}`, 'run `rotor backup files` to see the files with copies');
  return found;
}

/** Puts the `nth` newest copy (1-based) of `path` back. */
export async function restoreFileCopy(config: RotorConfig, path: string, nth: number): Promise<{ file: string; from: string; nth: number; changed: boolean }> {
  return withEngine(config, async (engine) => {
    const { backups } = engine;
    const entry = fileOf(backups.list(), path);
    const copy = entry.copies[nth - 1];
    if (!copy) throw new UsageError(`${entry.file} has ${entry.copies.length} cop${entry.copies.length === 1 ? 'y' : 'ies'}; --nth ${nth} is not one of them`);
    const text = backups.read(entry.file, copy);
    const change = await replaceFile(entry.file, () => text, { backups });
    const at = copy.at.toISOString();
    await engine.state.commit([stateAudit(engine, 'backup.file-restored', `${entry.file} from the copy taken ${at}${change.changed ? '' : ' (it already held that text)'}`)]);
    return { file: entry.file, from: at, nth, changed: change.changed };
  });
}

/** Seals each legacy plaintext copy under the master key and deletes the plaintext; `left` are those no configured file claims. */
export async function sealLegacyCopies(config: RotorConfig): Promise<{ sealed: number; left: string[] }> {
  return withEngine(config, async (engine) => {
    const { backups } = engine;
    const copies = legacyCopies(config).sort((a, b) => (a.at?.getTime() ?? 0) - (b.at?.getTime() ?? 0));
    const left: string[] = [];
    let sealed = 0;
    for (const c of copies) {
      if (!c.file) {
        left.push(c.path);
        continue;
      }
      let file = c.file;
      try {
        file = resolveTarget(c.file).real;
      } catch {
        // Sealed under the configured path.
      }
      await backups.save(file, readFileSync(c.path, 'utf8'), c.at);
      unlinkSync(c.path);
      sealed++;
    }
    if (sealed) await engine.state.commit([stateAudit(engine, 'backup.legacy-sealed', `${sealed} plaintext copies sealed and deleted; ${left.length} left`)]);
    return { sealed, left };
  });
}
