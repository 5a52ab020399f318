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
 * The lines live in conformance/<type>.ts (each with its server and probe), the CLI side of a
 * test in conformance/session.ts, the in-process calls of (a) and (c) in conformance/in-process.ts.
 *
 * @example
 * const pg = postgresTarget();
 * runRotatorConformance(postgresLine(pg, 'alternating'));
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SecretValue } from '../../src/rotators/types.js';
import { Sandbox } from '../helpers/sandbox.js';
import { idempotency, retireUnheld } from './conformance/in-process.js';
import { rotorYaml, sameCredential, Session } from './conformance/session.js';
import { ID, type ConformanceLine, type Ctx } from './conformance/types.js';

export type { ConformanceLine, Ctx, Existing, Probe } from './conformance/types.js';

export const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
export const BOUNDARIES = STEPS.flatMap((s) => [`${s}:before`, `${s}:after`]);

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
      if (line.versionStore) Object.assign(sb.baseEnv, line.versionStore.env());
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
