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

export interface RunOptions {
  shell: boolean;
  stdin: string;
  timeoutMs: number;
  /** Added to the inherited environment. */
  env?: NodeJS.ProcessEnv;
  /** Variables a command must not inherit (those the targets' admin URLs are built from). */
  strip?: readonly string[];
  cwd: string;
  /** Keep stdout whole and apart from `output` (a command that prints a new value). */
  stdout?: boolean;
  /**
   * Applied to the output before it is cut to its tail: a value the command echoed is
   * removed whole, never left as a fragment the cut made unrecognizable.
   */
  redact?: (text: string) => string;
  /** Killed when this fires too (a step's timeout, an interrupted run). */
  signal?: AbortSignal;
}

/** How much output is kept before redaction; the tail shown after it is much shorter. Longer than
 * any value a type allows, so a value still arriving is never cut at its head. */
const KEPT = 256 * 1024;
const SHOWN = 2000;

export function runCommand(command: string | string[], opts: RunOptions): Promise<CommandResult> {
  const [file, ...args] = opts.shell ? ['/bin/sh', '-c', Array.isArray(command) ? command.join(' ') : command] : Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
  return new Promise((resolve) => {
    // Its own process group: a timeout kills what the command started too (a `sleep` under a
    // shell would otherwise hold the pipes, and Rotor, open until it ends).
    const child = spawn(file!, args, { cwd: opts.cwd, env: childEnv(opts.env, opts.strip), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const killAll = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    let output = '';
    let stdout = '';
    // Chunks are joined before anything is cut, so a value split across two chunks is whole again.
    // Redact before every cut: a cut only ever drops the head, where every whole value is
    // already replaced, so no fragment of a value survives it (one still arriving sits at the tail).
    const keep = (d: Buffer) => {
      output += d.toString();
      if (output.length > 2 * KEPT) output = (opts.redact ? opts.redact(output) : output).slice(-KEPT);
    };
    // A command that prints a value (a provider's new key) keeps its stdout apart, whole.
    if (opts.stdout) child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, 1 << 20)));
    else child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const stop = () => {
      timedOut = true;
      killAll();
    };
    const timer = setTimeout(stop, opts.timeoutMs);
    opts.signal?.addEventListener('abort', stop, { once: true });
    if (opts.signal?.aborted) stop();
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, output: err.message, timedOut: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      const shown = (opts.redact ? opts.redact(output) : output).slice(-SHOWN).trim();
      resolve({ code, signal, output: shown, timedOut, ...(opts.stdout ? { stdout } : {}) });
    });
    child.stdin.on('error', () => {}); // a command that never reads stdin must not fail the write
    child.stdin.end(opts.stdin);
  });
}

/**
 * A command inherits Rotor's environment (PATH, the variables its config uses) — except
 * Rotor's own secrets: the master key opens every stored value, the admin URLs of targets
 * open the databases, and no reload or health hook needs them.
 */
const ROTOR_ONLY = ['ROTOR_MASTER_KEY', 'ROTOR_MASTER_KEY_FILE', 'ROTOR_BACKUP_PASSPHRASE'];
function childEnv(extra: NodeJS.ProcessEnv = {}, strip: readonly string[] = []): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of [...ROTOR_ONLY, ...strip]) delete env[name];
  return env;
}

export function describeCommand(command: string | string[]): string {
  const text = Array.isArray(command) ? command.join(' ') : command;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A consumer's reload or health command, run as both kinds need it: the values on stdin,
 * ROTOR_* in the environment, the targets' variables stripped, its output redacted. Throws
 * when it times out or exits non-zero; `showOutput` puts the last lines of (redacted) output
 * in that error.
 */
export async function runConsumerCommand(
  step: { command: string | string[]; shell: boolean; timeout: string },
  config: { targetEnv: readonly string[]; dir: string },
  input: { stdin: string; env: NodeJS.ProcessEnv; redact: (text: string) => string },
  opts: { timeoutMs: number; showOutput: boolean },
): Promise<string> {
  const what = `\`${describeCommand(step.command)}\``;
  const r = await runCommand(step.command, {
    shell: step.shell, stdin: input.stdin, timeoutMs: opts.timeoutMs, env: input.env, strip: config.targetEnv, redact: input.redact, cwd: config.dir,
  });
  if (r.timedOut) throw new Error(`${what} did not finish within ${step.timeout}`);
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}${opts.showOutput && r.output ? `: ${r.output.split('\n').slice(-3).join(' | ')}` : ''}`);
  return what;
}
