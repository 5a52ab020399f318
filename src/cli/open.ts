/**
 * What commands need to open, as the CLI shows it: rotor.yaml with its warnings printed to
 * stderr, and a use-case that Ctrl-C or SIGTERM stops between steps. The opening itself is
 * the app layer's (app/engine.ts), shared with the HTTP API.
 */
import type { RotorConfig } from '../config/schema.js';
import type { ConfigProblem } from '../errors.js';
import { openConfig as loadConfigFile } from '../app/engine.js';
export { defaultMasterKeyFile } from '../app/master-key.js';

export {
  actorName, configPath, deliveryBackupsDir, describeState, stateExists, deliveryBackupsOf, openEngine, openState, selectSecrets, withRunner,
  type Engine,
} from '../app/engine.js';

/** @param readOnly the command never reaches a target (reads state, values or backups): unset `${VAR}`s are no error. */
export function openConfig(flag: string | undefined, opts: { readOnly?: boolean } = {}): RotorConfig {
  const { config, warnings } = loadConfigFile(flag, opts);
  printConfigWarnings(warnings);
  return config;
}

/** rotor.yaml's warnings, on stderr. */
export function printConfigWarnings(warnings: ConfigProblem[]): void {
  for (const w of warnings) process.stderr.write(`rotor: warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.message}\n`);
}

/**
 * Runs `fn` with a signal that the first SIGINT or SIGTERM aborts: the steps under way
 * finish and are journaled, nothing new starts, and the command ends with what to do next.
 * A second signal stops at once (resume repairs that too: every step is recorded before it
 * acts).
 */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
    process.stderr.write(`\nrotor: ${signal}: finishing the steps under way, starting nothing new (again to stop at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
