/**
 * A test's sandbox seen through the real CLI: runs `bin/rotor.js` (with stdin, for `rotor
 * adopt`), reads the stored versions the way a script would, checks the invariant at the
 * target, and searches every output and file for secret values.
 */
import { expect } from 'vitest';
import type { Json, SecretValue } from '../../../src/rotators/types.js';
import type { Result, Sandbox } from '../../helpers/sandbox.js';
import { ID, type ConformanceLine, type Ctx, type Stored } from './types.js';

/** Runs the real CLI in a sandbox, keeping every output but `rotor get`'s for the leak search. */
export class Session<V extends SecretValue> {
  readonly outputs: { args: string[]; text: string }[] = [];
  private readonly values = new Map<number, V>();

  constructor(readonly line: ConformanceLine<V>, readonly sb: Sandbox, readonly login: string, private readonly delivers: boolean) {}

  get ctx(): Ctx {
    return { dir: this.sb.dir, delivered: this.delivers };
  }

  async run(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Result> {
    const r = await this.sb.run(args, opts.env ?? {}, opts.stdin ?? '');
    // Everything but `get` is searched for leaked values later.
    if (args[0] !== 'get') this.outputs.push({ args, text: r.stdout + r.stderr });
    return r;
  }

  async ok(args: string[], expected = 0, stdin?: string): Promise<Result> {
    const r = await this.run(args, { stdin });
    if (r.code !== expected) throw new Error(`rotor ${args.join(' ')} exited ${r.code ?? r.signal}, expected ${expected}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async history(): Promise<{ versions: { version: number; stage: string }[]; rotations: { status: string }[] }> {
    return JSON.parse((await this.ok(['history', ID, '--json'])).stdout);
  }

  /** Every stored version with its value, read the way a script would: history, then get (once: a version's value never changes). */
  async stored(): Promise<Stored<V>[]> {
    const { versions } = await this.history();
    return Promise.all(versions.map(async (v) => {
      let value = this.values.get(v.version);
      if (value === undefined) {
        const out = (await this.ok(['get', ID, '--version', String(v.version)])).stdout.replace(/\n$/, '');
        value = (this.line.type === 'random' ? out : JSON.parse(out)) as V;
        this.values.set(v.version, value);
      }
      return { version: v.version, stage: v.stage, value };
    }));
  }

  /**
   * The invariant, asked at the target: one current, and it works; previous works in grace
   * (unless the strategy replaces in place), retired and failed are refused; the target
   * accepts nothing for the login that is not stored. `crashed`: mid-rotation, only the
   * last two hold (and an in-place strategy may be in its documented window, where the
   * pending value works instead of current). `unheld`: a credential from before Rotor may
   * still be accepted (not yet retired).
   */
  async expectInvariant(when: string, opts: { crashed?: boolean; unheld?: boolean } = {}): Promise<Stored<V>[]> {
    const { probe, inPlace } = this.line;
    const stored = await this.stored();
    const current = stored.filter((v) => v.stage === 'current');
    expect(current, `${when}: one current version`).toHaveLength(1);
    const works = await probe.accepts(this.ctx, current[0]!.value);
    if (opts.crashed && inPlace && works === false) {
      const pending = await Promise.all(stored.filter((v) => v.stage === 'pending').map((v) => probe.accepts(this.ctx, v.value)));
      expect(pending, `${when}: current is refused, so the pending value must work (the in-place window)`).toContain(true);
    } else if (opts.crashed && this.delivers && works === false) {
      const previous = await Promise.all(stored.filter((v) => v.stage === 'previous').map((v) => probe.accepts(this.ctx, v.value)));
      expect(previous, `${when}: consumers do not hold current yet (they get it at propagate), so they must still hold previous`).toContain(true);
    } else {
      expect(works, `${when}: current v${current[0]!.version} works at the target`).not.toBe(false);
    }
    if (!opts.crashed) {
      expect(stored.filter((v) => v.stage === 'pending'), `${when}: nothing pending`).toEqual([]);
      for (const v of stored) {
        const want = v.stage === 'current' || (v.stage === 'previous' && !inPlace);
        if (v.stage === 'current') continue;
        const ok = await probe.accepts(this.ctx, v.value);
        if (ok !== undefined) expect(ok, `${when}: v${v.version} (${v.stage}) ${want ? 'works' : 'is refused'} at the target`).toBe(want);
      }
    }
    if (this.line.versionStore) {
      // The store serves what Rotor staged current, even between a crash and resume.
      const served = await this.line.versionStore.current(this.login, ID);
      expect(served === undefined ? undefined : JSON.parse(served), `${when}: the store serves v${current[0]!.version} as current`).toEqual(current[0]!.value);
    }
    if (!opts.unheld) {
      expectNothing(await probe.unexplained(this.ctx, this.login, stored.map((v) => v.value)), `${when}: the target accepts what no stored value explains`);
    }
    return stored;
  }

  /** No secret (nor a fragment of one) appears in any output but `rotor get`'s, nor in any file under .rotor/. */
  expectNoLeak(secrets: string[]): void {
    expect(secrets.length).toBeGreaterThan(0);
    const haystacks: [string, string][] = [
      ...this.outputs.map((o) => [`the output of rotor ${o.args.join(' ')}`, o.text] as [string, string]),
      // Everything, the vault and the sealed copies of delivered files included: encrypted, neither shows a value.
      ...[...this.sb.files('.rotor')].map(([p, b]) => [p.slice(this.sb.dir.length + 1), b.toString('latin1')] as [string, string]),
    ];
    for (const secret of secrets) {
      for (const piece of fragments(secret)) {
        for (const [where, text] of haystacks) expect(text.includes(piece), `${piece.length < secret.length ? 'part of ' : ''}a secret value appears in ${where}`).toBe(false);
      }
    }
  }
}

/** Fails with the list itself in the message: each entry names a credential the target should not accept. */
export function expectNothing(found: string[], message: string): void {
  expect(found.join('; '), message).toBe('');
}

/** The whole secret, and overlapping 16-character pieces of a long one: a cut-off value still leaks what it shows. */
function fragments(secret: string): string[] {
  if (secret.length <= 24) return [secret];
  const out = [secret];
  for (let i = 0; i + 16 <= secret.length; i += 8) out.push(secret.slice(i, i + 16));
  return out;
}

/** The same credential: a database login (same user, password, host and port), or the same value (members in any order). */
export function sameCredential(a: SecretValue, b: SecretValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if ('password' in b) return ['username', 'password', 'host', 'port'].every((k) => a[k] === b[k]);
  return canonical(a) === canonical(b);
}

function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`).join(',')}}`;
  return JSON.stringify(v);
}

export function rotorYaml<V extends SecretValue>(line: ConformanceLine<V>, login: string, opts: { grace: string; reload?: string; deliver: boolean }): string {
  const out = ['version: 1'];
  if (line.target) out.push('targets:', `  main: { type: ${line.target.type}, url: "\${ADMIN_URL}" }`);
  const stores = [
    ...(opts.deliver ? ['  app: { type: json, path: ./delivered.json }'] : []),
    ...(line.versionStore ? [`  versions: ${line.versionStore.entry(login)}`] : []),
  ];
  if (stores.length) out.push('stores:', ...stores);
  const consumer = opts.deliver || opts.reload !== undefined;
  if (consumer) {
    out.push('consumers:', '  svc:');
    if (opts.deliver) out.push('    deliver: [{ store: app, key: value }]');
    if (opts.reload !== undefined) out.push(`    reload: [{ command: ${JSON.stringify(opts.reload)}, shell: true, timeout: 20s }]`);
  }
  const secret = {
    id: ID, type: line.type, ...(line.target ? { target: 'main' } : {}), grace: opts.grace,
    ...(consumer ? { consumers: ['svc'] } : {}), ...(line.versionStore ? { store: 'versions' } : {}), ...line.fields(login),
  };
  out.push('secrets:', `  - ${JSON.stringify(secret)}`);
  return `${out.join('\n')}\n`;
}
