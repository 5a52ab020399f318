/**
 * The rotator conformance suite (STYLE "Shared conformance suites", as Hono runs one suite
 * per router): every rotator type × strategy runs the same tests against a real target,
 * one line each — `runRotatorConformance(postgresLine(pg, 'single'))`.
 *
 * A line says how to reach its target and how to ask it what it accepts (a `Probe`: a real
 * login, ACL hashes, the published key set). The suite proves, per line:
 *  a. every rotator method called twice with the same request is safe and leaves the same
 *     state at the target (in-process, through `rotatorRegistry[type].load()`);
 *  b. a crash (ROTOR_CRASH_AT, SIGKILL) at each of the 12 step boundaries, then `rotor
 *     resume`, leaves the invariant holding: current works, and everything the target
 *     accepts for the secret's logins is a stored value;
 *  c. the credential in use before Rotor is revoked by the first retire — without adopt
 *     (--no-grace, or rotate then `rotor retire`) and with `rotor adopt`;
 *  d. a rotation rolled back after apply leaves the adopted value current and working;
 *  e. the previous value is refused at the target after retire;
 *  f. the current value works after every command;
 *  g. a value a consumer echoes into Rotor's output is redacted everywhere.
 *
 * @example
 * const pg = postgresTarget();
 * runRotatorConformance(postgresLine(pg, 'alternating'));
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rotatorRegistry, type RotatorType } from '../../src/rotators/registry.js';
import type { AnyRotatorDefinition, Json, Rotator, SecretValue, TargetRef } from '../../src/rotators/types.js';
import { BIN, Sandbox, type Result } from '../helpers/sandbox.js';

export const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
export const BOUNDARIES = STEPS.flatMap((s) => [`${s}:before`, `${s}:after`]);
const ID = 'conf/s';

/** Where a probe looks: the directory of rotor.yaml (published and delivered files live there). */
export interface Ctx {
  dir: string;
  /** Whether a consumer is given the value in delivered.json (not in the in-process tests, nor in g). */
  delivered: boolean;
}

/** How to ask a line's target what it accepts. */
export interface Probe<V> {
  /** Does the target accept `value` now? Undefined when the type has no target to ask. */
  accepts(ctx: Ctx, value: V): Promise<boolean | undefined>;
  /** Credentials the target accepts for the login that no value in `stored` explains, named for the failure message. */
  unexplained(ctx: Ctx, login: string, stored: V[]): Promise<string[]>;
  /** The target's state for the login, compared before and after a repeated call. */
  snapshot(ctx: Ctx, login: string): Promise<unknown>;
}

/** A credential that was in use before Rotor managed the secret. */
export interface Existing<V> {
  /** What `rotor adopt` reads on stdin: a bare password, a raw string, or the whole value as JSON. */
  input: string;
  /** The same credential as a whole value, to ask the target about. */
  value: V;
  /** Something `rotor adopt` must refuse (exit 2, nothing stored): refused at the target, or not of the type. */
  refused?: string;
}

export interface ConformanceLine<V extends SecretValue = SecretValue> {
  name: string;
  type: RotatorType;
  /** The type's fields of the secret in rotor.yaml. */
  fields(login: string): Record<string, Json>;
  target?: { type: 'postgres' | 'mysql' | 'redis'; url(): string };
  /** The login one test uses; tests run concurrently, so each gets its own unless the strategy has one fixed login. */
  login(tag: string): string;
  /** Every test touches the same login (requirepass: `default`): run this line's tests one at a time. */
  exclusive?: boolean;
  /** The strategy replaces the password in place: the previous value stops working at apply. */
  inPlace?: boolean;
  /** Consumers hold the value (a keyring): the CLI tests deliver it into delivered.json, which the probe reads. */
  delivers?: boolean;
  /** Makes the login exist with no credential at all. */
  clean(ctx: Ctx, login: string): Promise<void>;
  /** Makes a credential as it was before Rotor. */
  existing(ctx: Ctx, login: string): Promise<Existing<V>>;
  probe: Probe<V>;
  /** The secret parts of a value, searched for in outputs and files. */
  secretsOf(value: V): string[];
  /** Why this line cannot run here. */
  skip?: string;
}

interface Stored<V> {
  version: number;
  stage: string;
  value: V;
}

export function runRotatorConformance<V extends SecretValue>(line: ConformanceLine<V>): void {
  describe(line.name, { concurrent: true }, () => {
    if (line.skip) {
      it.skip(`skipped: ${line.skip}`, () => {});
      return;
    }
    const sandboxes: Sandbox[] = [];
    afterAll(() => sandboxes.forEach((s) => s.remove()));
    const test = (name: string, fn: () => Promise<void>) => it(name, { concurrent: !line.exclusive, timeout: 180_000 }, fn);

    /** A sandbox with rotor.yaml for this line, initialised. */
    async function open(login: string, opts: { grace?: string; reload?: string; deliver?: boolean } = {}): Promise<Session<V>> {
      const sb = new Sandbox(rotorYaml(line, login, { grace: opts.grace ?? '1h', reload: opts.reload, deliver: opts.deliver ?? line.delivers ?? false }));
      sandboxes.push(sb);
      if (line.target) sb.baseEnv.ADMIN_URL = line.target.url();
      const s = new Session(line, sb, login, opts.deliver ?? line.delivers ?? false);
      await s.ok(['init']);
      return s;
    }

    test('a. every rotator method twice with the same request: the second call is safe and changes nothing at the target', async () => {
      const login = line.login('a');
      const dir = mkdtempSync(join(tmpdir(), 'rotor-conf-'));
      try {
        const ctx: Ctx = { dir, delivered: false };
        await line.clean(ctx, login);
        await idempotency(line, ctx, login);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    for (const boundary of BOUNDARIES) {
      test(`b. crash at ${boundary}, then resume: current works and the target accepts only stored values`, async () => {
        const login = line.login(`b${BOUNDARIES.indexOf(boundary)}`);
        const s = await open(login);
        await line.clean(s.ctx, login);
        await s.ok(['rotate', ID, '--no-grace']);
        const crashed = await s.run(['rotate', ID, '--no-grace'], { env: { ROTOR_CRASH_AT: boundary } });
        expect(crashed.signal, crashed.stdout + crashed.stderr).toBe('SIGKILL');
        await s.expectInvariant('after the crash', { crashed: true });
        const resumed = await s.ok(['resume']);
        expect(resumed.stdout).not.toMatch(/FAILED|ROLLED BACK/);
        const stored = await s.expectInvariant('after resume');
        expect(stored.map((v) => v.stage)).toEqual(['retired', 'current']);
      });
    }

    test('c. without adopt, a first rotation with --no-grace revokes the credential from before Rotor', async () => {
      const login = line.login('c1');
      const s = await open(login);
      const before = await line.existing(s.ctx, login);
      await s.ok(['rotate', ID, '--no-grace']);
      await s.expectInvariant('after the first rotation');
      expect(await line.probe.accepts(s.ctx, before.value), 'the credential from before Rotor is refused').not.toBe(true);
    });

    test('c. without adopt, rotate then `rotor retire`: the retire revokes the credential from before Rotor', async () => {
      const login = line.login('c2');
      const s = await open(login, { grace: '1s' });
      const before = await line.existing(s.ctx, login);
      await s.ok(['rotate', ID]);
      await s.expectInvariant('after the first rotation, in grace', { unheld: true });
      await new Promise((r) => setTimeout(r, 1100));
      await s.ok(['retire']);
      await s.expectInvariant('after retire');
      expect(await line.probe.accepts(s.ctx, before.value), 'the credential from before Rotor is refused').not.toBe(true);
    });

    test('c. with `rotor adopt`: the adopted value is version 1, works through grace, and is revoked by the first retire', async () => {
      const login = line.login('c3');
      const s = await open(login);
      const before = await line.existing(s.ctx, login);
      if (before.refused !== undefined) {
        await s.ok(['adopt', ID], 2, before.refused);
        expect((await s.history()).versions, 'a refused adopt stores nothing').toEqual([]);
      }
      await s.ok(['adopt', ID], 0, before.input);
      const adopted = await s.expectInvariant('after adopt', { unheld: true });
      expect(adopted.map((v) => v.stage)).toEqual(['current']);
      expect(sameCredential(adopted[0]!.value, before.value), 'the adopted value is the credential in use').toBe(true);
      await s.ok(['adopt', ID], 2, before.input);
      expect((await s.history()).versions.length, 'adopt refuses a secret that has versions').toBe(1);
      await s.ok(['rotate', ID]);
      await s.expectInvariant('after the first rotation, in grace', { unheld: true });
      await s.ok(['retire', '--force']);
      const stored = await s.expectInvariant('after retire');
      expect(stored.map((v) => v.stage)).toEqual(['retired', 'current']);
      expect(await line.probe.accepts(s.ctx, before.value), 'the adopted credential is refused').not.toBe(true);
    });

    test('c. (rotator) retire and checkRejected without a retiring value, twice: only current is left at the target', async () => {
      const login = line.login('c4');
      const dir = mkdtempSync(join(tmpdir(), 'rotor-conf-'));
      try {
        const ctx: Ctx = { dir, delivered: false };
        const before = await line.existing(ctx, login);
        await retireUnheld(line, ctx, login, before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('d. adopt, then a rotation rolled back at propagate: the adopted value is current and works at the target', async () => {
      const login = line.login('d');
      const s = await open(login, { reload: 'cat >/dev/null; test "$ROTOR_VERSION" != 2' });
      const before = await line.existing(s.ctx, login);
      await s.ok(['adopt', ID], 0, before.input);
      const failed = await s.ok(['rotate', ID], 1);
      expect(failed.stdout).toMatch(/ROLLED BACK/);
      const stored = await s.expectInvariant('after the rollback', { unheld: true });
      expect(stored.map((v) => v.stage)).toEqual(['current', 'failed']);
      expect(sameCredential(stored[0]!.value, before.value)).toBe(true);
      expect(await line.probe.accepts(s.ctx, before.value), 'the adopted credential works').not.toBe(false);
      // The adopted value came in on stdin: no output, record or file of Rotor's holds it.
      await s.ok(['history', ID, '--json']);
      await s.ok(['audit', 'export']);
      s.expectNoLeak(line.secretsOf(before.value));
    });

    test('e, f. through rotate, grace, retire, rollback and resume: current works, previous works in grace, retired and failed are refused', async () => {
      const login = line.login('ef');
      const s = await open(login);
      await line.clean(s.ctx, login);
      await s.ok(['rotate', ID]);
      await s.expectInvariant('after the first rotation');
      await s.ok(['rotate', ID]);
      await s.expectInvariant('after the second rotation, in grace');
      await s.ok(['retire', '--force']);
      expect((await s.expectInvariant('after retire')).map((v) => v.stage)).toEqual(['retired', 'current']);
      await s.ok(['rotate', ID]);
      await s.expectInvariant('after the third rotation, in grace');
      await s.ok(['rollback', ID]);
      expect((await s.expectInvariant('after rollback')).map((v) => v.stage)).toEqual(['retired', 'current', 'failed']);
      await s.ok(['rotate', ID, '--no-grace']);
      expect((await s.expectInvariant('after a rotation with --no-grace')).map((v) => v.stage)).toEqual(['retired', 'retired', 'failed', 'current']);
      await s.ok(['resume']);
      await s.expectInvariant('after resume');
      await s.ok(['audit', 'verify']);
    });

    test('g. a consumer that echoes the value and fails: the value is in no output, history, audit event or file under .rotor/', async () => {
      const login = line.login('g');
      // It prints what it was given 20 times over, with no line breaks: more than the 64 KB of output Rotor keeps for a
      // large value, so a cut can fall inside a copy.
      const echo = 'v=$(cat); i=0; while [ $i -lt 20 ]; do printf %s "$v"; i=$((i+1)); done; echo; test "$ROTOR_VERSION" != 2';
      const s = await open(login, { reload: echo, deliver: false });
      await line.clean(s.ctx, login);
      await s.ok(['rotate', ID, '--no-grace']);
      const failed = await s.ok(['rotate', ID], 1);
      expect(failed.stdout).toMatch(/consumer svc: reload failed/);
      for (const args of [['history', ID], ['history', ID, '--json'], ['audit', 'export'], ['status', '--json'], ['plan']]) await s.ok(args);
      const stored = await s.expectInvariant('after the rollback');
      expect(stored.map((v) => v.stage)).toEqual(['current', 'failed']);
      s.expectNoLeak(stored.flatMap((v) => line.secretsOf(v.value)));
    });
  });
}

/** Runs the real CLI in a sandbox, keeping every output but `rotor get`'s for the leak search. */
class Session<V extends SecretValue> {
  readonly outputs: { args: string[]; text: string }[] = [];
  private readonly values = new Map<number, V>();

  constructor(readonly line: ConformanceLine<V>, readonly sb: Sandbox, readonly login: string, private readonly delivers: boolean) {}

  get ctx(): Ctx {
    return { dir: this.sb.dir, delivered: this.delivers };
  }

  run(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Result> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: this.sb.dir, env: this.sb.env(opts.env ?? {}) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin ?? '');
      child.on('close', (code, signal) => {
        if (args[0] !== 'get') this.outputs.push({ args, text: stdout + stderr });
        done({ code, signal, stdout, stderr });
      });
    });
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
      // Not .rotor/backups/: delivery keeps a 0600 copy of each consumer file it replaces there (README
      // "Consumers"), plaintext by design; the g test delivers no file.
      ...[...this.sb.files('.rotor')].filter(([p]) => !p.startsWith(this.sb.path('.rotor', 'backups')))
        .map(([p, b]) => [p.slice(this.sb.dir.length + 1), b.toString('latin1')] as [string, string]),
    ];
    for (const secret of secrets) {
      for (const piece of fragments(secret)) {
        for (const [where, text] of haystacks) expect(text.includes(piece), `${piece.length < secret.length ? 'part of ' : ''}a secret value appears in ${where}`).toBe(false);
      }
    }
  }
}

/** Fails with the list itself in the message: each entry names a credential the target should not accept. */
function expectNothing(found: string[], message: string): void {
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
function sameCredential(a: SecretValue, b: SecretValue): boolean {
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
  if (opts.deliver) out.push('stores:', '  app: { type: json, path: ./delivered.json }');
  const consumer = opts.deliver || opts.reload !== undefined;
  if (consumer) {
    out.push('consumers:', '  svc:');
    if (opts.deliver) out.push('    deliver: [{ store: app, key: value }]');
    if (opts.reload !== undefined) out.push(`    reload: [{ command: ${JSON.stringify(opts.reload)}, shell: true, timeout: 20s }]`);
  }
  const secret = {
    id: ID, type: line.type, ...(line.target ? { target: 'main' } : {}), grace: opts.grace,
    ...(consumer ? { consumers: ['svc'] } : {}), ...line.fields(login),
  };
  out.push('secrets:', `  - ${JSON.stringify(secret)}`);
  return `${out.join('\n')}\n`;
}

/** The rotator as the engine holds it, with requests built as engine/rotator-pool.ts `requestFor` builds them. */
async function loadRotator<V extends SecretValue>(line: ConformanceLine<V>, ctx: Ctx, login: string) {
  const definition: AnyRotatorDefinition = rotatorRegistry[line.type];
  const rotator = (await definition.load())({ now: () => performance.now(), baseDir: ctx.dir }) as unknown as Rotator<unknown, V>;
  const target: TargetRef | undefined = line.target ? { name: 'main', type: line.target.type, url: line.target.url() } : undefined;
  const base = { secretId: ID, spec: definition.schema.parse(line.fields(login)), target, signal: new AbortController().signal };
  return { rotator, base };
}

/** (a): preflight, generate, apply, verify, undoApply, retire and checkRejected, each twice. */
async function idempotency<V extends SecretValue>(line: ConformanceLine<V>, ctx: Ctx, login: string): Promise<void> {
  const { rotator, base } = await loadRotator(line, ctx, login);
  const { probe } = line;
  const state = () => probe.snapshot(ctx, login);
  /** Runs `call` twice: both succeed, and the second leaves the target as the first did. */
  const twice = async <T>(what: string, call: () => Promise<T>): Promise<[T, T]> => {
    const first = await call();
    const after = await state();
    const second = await call();
    expect(await state(), `${what}: a second call changes the target`).toEqual(after);
    return [first, second];
  };
  const accepts = async (v: V, want: boolean, why: string) => {
    const ok = await probe.accepts(ctx, v);
    if (ok !== undefined) expect(ok, why).toBe(want);
  };
  try {
    const untouched = await state();
    const [p1, p2] = await twice('preflight', () => rotator.preflight(base));
    expect(p2).toEqual(p1);
    await twice('generate', () => rotator.generate({ ...base, version: 1, current: undefined }));
    expect(await state(), 'generate and preflight touch nothing').toEqual(untouched);

    const v1 = (await rotator.generate({ ...base, version: 1, current: undefined })).value;
    await twice('apply v1', () => rotator.apply({ ...base, pending: v1, current: undefined }));
    await twice('verify v1', () => rotator.verify({ ...base, value: v1 }));
    await accepts(v1, true, 'v1 works after apply');

    const v2 = (await rotator.generate({ ...base, version: 2, current: v1 })).value;
    await twice('apply v2', () => rotator.apply({ ...base, pending: v2, current: v1 }));
    await twice('verify v2', () => rotator.verify({ ...base, value: v2 }));
    await accepts(v2, true, 'v2 works after apply');
    await accepts(v1, !line.inPlace, `v1 ${line.inPlace ? 'is replaced' : 'keeps working'} after v2 is applied`);

    await twice('undoApply v2', () => rotator.undoApply({ ...base, pending: v2, current: v1 }));
    await accepts(v1, true, 'v1 works after the undo');
    await accepts(v2, false, 'v2 is refused after the undo');
    expectNothing(await probe.unexplained(ctx, login, [v1]), 'after the undo, the target accepts more than v1');

    // Applied again after its undo (a resumed rotation does exactly this), then retired.
    await rotator.apply({ ...base, pending: v2, current: v1 });
    await rotator.verify({ ...base, value: v2 });
    await twice('retire v1', () => rotator.retire({ ...base, retiring: v1, current: v2, emergency: false, force: false }));
    const [r1, r2] = await twice('checkRejected v1', () => rotator.checkRejected({ ...base, retired: v1, current: v2 }));
    expect([r1.rejected, r2.rejected], 'checkRejected proves v1 refused').toEqual([true, true]);
    await accepts(v1, false, 'v1 is refused after retire');
    await accepts(v2, true, 'v2 works after retire');
    expectNothing(await probe.unexplained(ctx, login, [v2]), 'after retire, the target accepts more than v2');
  } finally {
    await rotator.close();
  }
}

/** (c) at the rotator: a first rotation without adopt retires with no retiring value — what Rotor does not hold goes. */
async function retireUnheld<V extends SecretValue>(line: ConformanceLine<V>, ctx: Ctx, login: string, before: Existing<V>): Promise<void> {
  const { rotator, base } = await loadRotator(line, ctx, login);
  const state = () => line.probe.snapshot(ctx, login);
  try {
    await rotator.preflight(base);
    const v1 = (await rotator.generate({ ...base, version: 1, current: undefined })).value;
    await rotator.apply({ ...base, pending: v1, current: undefined });
    await rotator.verify({ ...base, value: v1 });
    await rotator.retire({ ...base, retiring: undefined, current: v1, emergency: false, force: false });
    const after = await state();
    await rotator.retire({ ...base, retiring: undefined, current: v1, emergency: false, force: false });
    expect(await state(), 'a second retire changes the target').toEqual(after);
    for (let i = 0; i < 2; i++) expect((await rotator.checkRejected({ ...base, retired: undefined, current: v1 })).rejected).toBe(true);
    expect(await line.probe.accepts(ctx, before.value), 'the credential from before Rotor is refused').not.toBe(true);
    expect(await line.probe.accepts(ctx, v1), 'current works').not.toBe(false);
    expectNothing(await line.probe.unexplained(ctx, login, [v1]), 'the target accepts more than current');
  } finally {
    await rotator.close();
  }
}
