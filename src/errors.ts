/**
 * Typed errors. Each carries what the user must do (`hint`) and the class of outcome it
 * stands for; app/outcomes.ts maps that class to an exit code (used only by the CLI entry,
 * cli/index.ts) and to an HTTP status. Messages must never contain secret values: they are built from
 * ids, paths and metadata only.
 */

/** How an error ends a command: the SPEC's exit codes 1, 2 and 3. */
export type Outcome = 'usage' | 'rolled-back' | 'needs-person';

export class RotorError extends Error {
  readonly outcome: Outcome;
  readonly hint: string | undefined;

  constructor(message: string, opts: { outcome: Outcome; hint?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.outcome = opts.outcome;
    this.hint = opts.hint;
  }
}

/** Bad flags or arguments. Nothing was touched. */
export class UsageError extends RotorError {
  constructor(message: string, hint?: string) {
    super(message, { outcome: 'usage', hint });
  }
}

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}

/** rotor.yaml is wrong. Carries every problem found, not just the first. */
export class ConfigError extends RotorError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'), {
      outcome: 'usage',
      hint: 'fix the configuration; nothing was changed',
    });
    this.problems = problems;
  }
}

function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}${p.column ? `:${p.column}` : ''}`;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** The master key is missing, malformed, or does not open this vault. */
export class MasterKeyError extends RotorError {
  constructor(message: string, hint: string, cause?: unknown) {
    super(message, { outcome: 'usage', hint, cause });
  }
}

/**
 * Stored data failed an integrity check (a changed byte, a truncated file, a bad header).
 * Rotor refuses to write over it: a person must look, hence exit 3.
 */
export class IntegrityError extends RotorError {
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown, opts: { hint?: string } = {}) {
    super(`${file}: ${message}`, {
      outcome: 'needs-person',
      hint: opts.hint ?? 'restore the file from a backup or investigate the change; Rotor has not written to it',
      cause,
    });
    this.file = file;
  }
}

/** The audit log has events but no keyed-chain marker (see audit/chain.ts). */
export class UnkeyedAuditError extends IntegrityError {}

/**
 * A target could not be reached (refused, reset, timed out). Transient by nature: rollback
 * retries an undo that fails this way for a few seconds before asking for a person.
 */
export class TargetUnreachableError extends RotorError {
  constructor(message: string, cause?: unknown) {
    super(message, { outcome: 'rolled-back', hint: 'check that the server is running and reachable from here; the current credential was not changed by this step', cause });
  }
}

export class NotFoundError extends RotorError {
  constructor(message: string, hint?: string) {
    super(message, { outcome: 'usage', hint });
  }
}

/** A short description of any thrown thing, for logs and step records. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
