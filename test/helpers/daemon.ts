/**
 * A real `rotor serve` process in a sandbox: its JSON log lines, its address, and ways to
 * signal it and wait for what it logs. Tests wait on log events, never on fixed sleeps.
 *
 * @example
 * const d = await startServe(sb);                       // rotor.yaml's serve.listen must use port 0 or a free port
 * await d.waitFor((l) => l.event === 'rotation.finished' && l.secret === 'app/key');
 * const res = await d.fetch('/v1/secrets', { token });
 * await d.stop();                                        // SIGTERM, expects exit 0
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BIN, type Sandbox } from './sandbox.js';

export interface LogLine {
  level: string;
  event?: string;
  msg: string;
  [k: string]: unknown;
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  port: number;
  lines: LogLine[];
  /** Everything it wrote, stdout and stderr, for leak searches. */
  output(): string;
  /** The first log line (already written or to come) matching `match`. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Lines matching `match` so far. */
  all(match: (l: LogLine) => boolean): LogLine[];
  fetch(path: string, opts?: { token?: string; method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response>;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait; throws when it does not exit 0 in time. */
  stop(timeoutMs?: number): Promise<void>;
}

/** A free port on 127.0.0.1 (the kernel's pick, released for the daemon to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts `rotor serve --listen 127.0.0.1:<free port>` in the sandbox and waits until it
 * logs `daemon.ready` (or exits: then it throws with its output).
 */
export async function startServe(sb: Sandbox, opts: { env?: NodeJS.ProcessEnv; args?: string[]; readyTimeoutMs?: number } = {}): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`, ...(opts.args ?? [])], { cwd: sb.dir, env: sb.env(opts.env ?? {}) });
  let out = '';
  let partial = '';
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const onLine = (line: LogLine) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const text = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        onLine(JSON.parse(text) as LogLine);
      } catch {
        onLine({ level: 'raw', msg: text });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;

  const waitFor = (match: (l: LogLine) => boolean, timeoutMs = 30_000) => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs} ms; output so far:\n${out.slice(-4000)}`)), timeoutMs);
      waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`rotor serve exited (${code ?? signal}) before a matching log line:\n${out.slice(-4000)}`));
      });
    });
  };

  const proc: ServeProcess = {
    child, url, port, lines, exited,
    output: () => out,
    waitFor,
    all: (match) => lines.filter(match),
    fetch: (path, o = {}) => fetch(`${url}${path}`, {
      method: o.method ?? (o.body !== undefined || o.rawBody !== undefined ? 'POST' : 'GET'),
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      ...(o.rawBody !== undefined ? { body: o.rawBody } : o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    }),
    signal: (sig) => child.kill(sig),
    stop: async (timeoutMs = 40_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      if (r.code !== 0) throw new Error(`rotor serve exited ${r.code ?? r.signal} on SIGTERM:\n${out.slice(-4000)}`);
    },
  };
  await waitFor((l) => l.event === 'daemon.ready', opts.readyTimeoutMs ?? 30_000);
  return proc;
}
