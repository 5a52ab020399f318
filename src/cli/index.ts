/**
 * The CLI entry, and the only place errors become exit codes (SPEC: 0 done, 1 rolled back,
 * 2 bad usage or configuration, 3 a person must look). Command modules are imported only
 * when run, so `rotor --version` loads almost nothing.
 */
import { ROTOR_VERSION as VERSION } from '../version.js';
import { COMMANDS, type CommandName } from './commands.js';

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`rotor ${VERSION}\n`);
    return;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`rotor: unknown command "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  try {
    const command = await COMMANDS[name as CommandName].load();
    process.exitCode = await command(rest);
  } catch (err) {
    process.exitCode = await reportError(err, rest.includes('--json'));
  }
}

/** A damaged state arrives as IntegrityError, wherever it was found: every state driver reports it so (state/types.ts). */
async function reportError(err: unknown, json: boolean): Promise<number> {
  const [{ RotorError, ConfigError }, { exitCodeOfError }] = await Promise.all([import('../errors.js'), import('../app/outcomes.js')]);
  const code = exitCodeOfError(err);
  if (err instanceof RotorError) {
    if (json) {
      const problems = err instanceof ConfigError ? err.problems : undefined;
      process.stdout.write(`${JSON.stringify({ error: err.message, kind: err.name, hint: err.hint, problems, exitCode: code })}\n`);
    }
    process.stderr.write(`rotor: ${err.message}\n${err.hint ? `  → ${err.hint}\n` : ''}`);
    return code;
  }
  // Not one of ours: a bug or an environment failure. Show it plainly; a person must look.
  process.stderr.write(`rotor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return code;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `rotor ${VERSION} — rotate secrets without breaking what uses them

usage: rotor <command> [options]

${lines.join('\n')}

Every command takes --config PATH (default ./rotor.yaml); listing commands take --json.
Exit codes: 0 done, 1 a rotation failed and was rolled back, 2 bad usage or configuration
(nothing touched), 3 a person must look (rollback or retire failed, audit check failed).
`;
}
