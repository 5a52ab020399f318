/**
 * Runs a consumer's command: without a shell unless asked, the value only on stdin (never
 * in argv, where `ps` shows it to every user), killed when its timeout passes.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last part of stdout and stderr, for the error message (the caller redacts it). */
  output: string;
  /** With `stdout: true`: the whole of stdout (at most 1 MiB), kept out of `output`. */
  stdout?: string;
  timedOut: boolean;
}

export function runCommand(
  command: string | string[],
  opts: { shell: boolean; stdin: string; timeoutMs: number; env?: NodeJS.ProcessEnv; cwd: string; stdout?: boolean },
): Promise<CommandResult> {
  const [file, ...args] = opts.shell ? ['/bin/sh', '-c', Array.isArray(command) ? command.join(' ') : command] : Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
  return new Promise((resolve) => {
    const child = spawn(file!, args, { cwd: opts.cwd, env: childEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-2000));
    // A command that prints a value (a provider's new key) keeps its stdout apart, whole.
    if (opts.stdout) child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, 1 << 20)));
    else child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, output: err.message, timedOut: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: output.trim(), timedOut, ...(opts.stdout ? { stdout } : {}) });
    });
    child.stdin.on('error', () => {}); // a command that never reads stdin must not fail the write
    child.stdin.end(opts.stdin);
  });
}

/**
 * A command inherits Rotor's environment (PATH, the variables its config uses) — except
 * Rotor's own secrets: the master key opens every stored value, and no reload hook needs it.
 */
const ROTOR_ONLY = ['ROTOR_MASTER_KEY', 'ROTOR_BACKUP_PASSPHRASE'];
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ROTOR_ONLY) delete env[name];
  return env;
}

export function describeCommand(command: string | string[]): string {
  const text = Array.isArray(command) ? command.join(' ') : command;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
