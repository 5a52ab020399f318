/**
 * Whether an error from SQLite means the database file is damaged, and the IntegrityError
 * the StateStore contract reports for it: callers never see a driver's own error codes.
 */
import { IntegrityError } from '../../errors.js';

export function isCorruption(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return /^SQLITE_(CORRUPT|NOTADB)/.test(code) || /malformed|not a database/i.test(String((err as Error)?.message ?? ''));
}

/** An IntegrityError for a damaged state database, or undefined when `err` is something else. */
export function corruptionError(path: string, err: unknown): IntegrityError | undefined {
  if (!isCorruption(err)) return undefined;
  return new IntegrityError(path, `the state database is damaged (SQLite: ${(err as Error).message})`, err);
}
