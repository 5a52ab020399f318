/**
 * Shared pieces of the private test servers: a free loopback port, a temp directory the
 * server's unprivileged user owns, and waiting for a child to accept connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running private server. `url` and `password` are secrets: never log them. */
export interface TestServer {
  host: string;
  port: number;
  user: string;
  password: string;
  url: string;
  /** Everything the server has logged so far (PostgreSQL: every statement, log_statement=all). */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A temp directory owned by `uid` (servers that refuse root run as their own system user). */
export function serverDir(prefix: string, uid?: number, gid?: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (uid !== undefined && process.getuid?.() === 0) chownSync(dir, uid, gid ?? uid);
  chmodSync(dir, 0o700);
  return dir;
}

export const testPassword = () => randomBytes(18).toString('base64url');

export async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not listen on ${port} within ${timeoutMs} ms:\n${log()}`);
}

/** Starts a long-running server process, keeping its output for error messages. */
export function startProcess(cmd: string, args: string[], opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; keepAll?: boolean } = {}) {
  const child = spawn(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    ...(process.getuid?.() === 0 && opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  let output = '';
  const keep = (d: Buffer) => (output = opts.keepAll ? output + d : (output + d).slice(-8000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => output };
}

/** Stops the server and removes its directory: the `stop` of every TestServer. */
export function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
}

/** PostgreSQL takes SIGINT as "fast shutdown"; its SIGTERM waits for every client to leave. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
