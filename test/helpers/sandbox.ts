/**
 * A private working directory with its own rotor.yaml, vault, state and master key, and a
 * way to run the real `rotor` binary in it as a child process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export const BIN = resolve(import.meta.dirname, '../../bin/rotor.js');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly dir: string;
  readonly masterKey = randomBytes(32).toString('base64');
  /** Added to the environment of every run: admin URLs that rotor.yaml names as ${VAR}. */
  readonly baseEnv: NodeJS.ProcessEnv = {};

  constructor(config?: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'rotor-test-'));
    if (config !== undefined) this.write('rotor.yaml', config);
  }

  write(name: string, text: string): void {
    writeFileSync(join(this.dir, name), text);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ROTOR_MASTER_KEY: this.masterKey, ROTOR_ACTOR: 'test', ...this.baseEnv, ...extra };
    delete env.ROTOR_CRASH_AT;
    if (extra.ROTOR_CRASH_AT) env.ROTOR_CRASH_AT = extra.ROTOR_CRASH_AT;
    for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
    return env;
  }

  /** Runs the real binary, with `stdin` piped in; async so the test worker stays responsive while children run. */
  run(args: string[], env: NodeJS.ProcessEnv = {}, stdin = ''): Promise<Result> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: this.dir, env: this.env(env) });
      child.stdin.on('error', () => {}); // a command that never reads stdin
      child.stdin.end(stdin);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
    });
  }

  /** Runs and fails the test with the output when the exit code is not the expected one. */
  async ok(args: string[], env: NodeJS.ProcessEnv = {}, expected = 0): Promise<Result> {
    const r = await this.run(args, env);
    if (r.code !== expected) throw new Error(`rotor ${args.join(' ')} exited ${r.code ?? r.signal}, expected ${expected}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async json<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse((await this.ok([...args, '--json'])).stdout) as T;
  }

  /** Every file under the sandbox with its bytes, for leak searches and "untouched" checks. */
  files(sub = '.'): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.set(p, readFileSync(p));
      }
    };
    walk(join(this.dir, sub));
    return out;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function randomSecrets(n: number, extra = ''): string {
  const lines = ['version: 1', 'secrets:'];
  for (let i = 0; i < n; i++) lines.push(`  - { id: app/key-${i}, type: random, length: 32, grace: 1h${extra} }`);
  return `${lines.join('\n')}\n`;
}
