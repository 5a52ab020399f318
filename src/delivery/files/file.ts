/**
 * Applies assignments to a config file: parse first (a file Rotor cannot parse is left
 * alone), then the safe replace every delivery into a file shares (fs/safe-replace.ts:
 * links kept and checked, a lock across processes, a sealed backup, owner and mode kept).
 */
import { replaceFile, type FileChange, type ReplaceOptions } from '../../fs/safe-replace.js';
import type { Assignment, FileFormat } from './types.js';

export type { FileChange };

export function assignInFile(format: FileFormat, path: string, assignments: Assignment[], opts: ReplaceOptions = {}): Promise<FileChange> {
  return replaceFile(path, (before) => format.edit(before ?? '', assignments), opts);
}
