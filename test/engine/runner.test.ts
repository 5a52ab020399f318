/**
 * The runner in-process, with a recording fake target: the order of side effects, and
 * rollback when a step fails. Real SQLite state and a real local vault in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RotorConfig, SecretConfig } from '../../src/config/schema.js';
import { deriveKeys, newMasterKey } from '../../src/crypto/master-key.js';
import { runBatch } from '../../src/engine/batch.js';
import type { EngineDeps } from '../../src/engine/context.js';
import { Redactor } from '../../src/engine/redact.js';
import { Runner } from '../../src/engine/runner.js';
import type { AnyRotatorDefinition, Rotator } from '../../src/rotators/types.js';
import { openStateStore } from '../../src/state/registry.js';
import type { StateStore } from '../../src/state/types.js';
import { LocalVault } from '../../src/stores/local-vault/vault.js';
import { verifyChain } from '../../src/audit/chain.js';
import { collect } from '../helpers/collect.js';

/** A target that accepts a set of passwords, like Redis with dual passwords. */
class FakeTarget {
  accepted = new Set<string>();
  calls: string[] = [];
  failAt: string | undefined;
  leak = false;

  rotator(): Rotator<unknown, string> {
    const step = (name: string, detail: string) => {
      this.calls.push(`${name}:${detail}`);
      if (this.failAt === name) throw new Error(`${name} refused${this.leak ? ` for ${detail}` : ''}`);
    };
    let n = 0;
    return {
      preflight: async () => ({ notes: [] }),
      generate: async () => ({ value: `value-${++n}-${Math.random().toString(36).slice(2)}` }),
      apply: async ({ pending }) => (step('apply', pending), this.accepted.add(pending), {}),
      verify: async ({ value }) => {
        step('verify', value);
        if (!this.accepted.has(value)) throw new Error('login failed');
        return {};
      },
      undoApply: async ({ pending }) => (step('undo', pending), this.accepted.delete(pending), {}),
      // Nothing left behind: after retire the target accepts the current value alone.
      retire: async ({ retiring, current }) => (step('retire', retiring ?? '(unheld)'), (this.accepted = new Set([current])), {}),
      checkRejected: async ({ retired, current }) => ({ rejected: retired === undefined ? [...this.accepted].every((v) => v === current) : !this.accepted.has(retired) }),
      close: async () => {},
    };
  }

  definition(): AnyRotatorDefinition {
    return {
      type: 'fake', summary: 'fake', schema: z.object({}), valueSchema: z.string(), targetType: null,
      plan: () => ({ steps: { create: '', apply: '', verify: '', promote: '', propagate: '', retire: '' }, notes: [] }),
      load: async () => () => this.rotator(),
    };
  }
}

const secret = (id: string, over: Partial<SecretConfig> = {}): SecretConfig => ({
  id, type: 'fake', store: 'local', target: undefined, intervalMs: undefined, graceMs: 3_600_000, priority: 'medium', after: [], consumers: [],
  description: undefined, spec: {}, ...over,
});

describe('runner', () => {
  let dir: string;
  let state: StateStore;
  let target: FakeTarget;
  let deps: EngineDeps;
  let vault: LocalVault;
  let auditKey: Buffer;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rotor-runner-'));
    const keys = deriveKeys(newMasterKey());
    state = await openStateStore({ driver: 'sqlite', path: join(dir, 'state.db') }, { create: true, host: 'test-host' });
    auditKey = keys.audit;
    await state.useAuditKey(auditKey);
    vault = new LocalVault({ dir: join(dir, 'vault'), key: keys.vault });
    await vault.initialize();
    target = new FakeTarget();
    const config = { secrets: [], targets: {}, stores: {}, concurrency: 4 } as unknown as RotorConfig;
    deps = {
      config, state, storeFor: () => vault, definitionOf: () => target.definition(), fingerprintKey: keys.fingerprint,
      redactor: new Redactor(), crash: () => {}, actor: 'test', owner: { id: 'test-owner', pid: process.pid, host: 'test-host' }, now: Date.now,
    };
  });
  afterEach(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rotate = async (s: SecretConfig, noGrace = true) => {
    const runner = new Runner(deps);
    const [outcome] = await runBatch(deps, [s], { concurrency: 1 }, (x) =>
      runner.rotate(x, { trigger: 'manual', reason: null, incident: null, noGrace }),
    );
    return outcome!;
  };
  const stages = async (id: string) => (await state.versions(id)).map((v) => `v${v.version}:${v.stage}`);
  const valueOf = async (id: string, version: number) => {
    const row = (await state.version(id, version))!;
    return JSON.parse((await vault.getVersion({ secretId: id, version, rotationId: row.rotationId }))!) as string;
  };

  it('acts in step order: apply, verify, then retire the old value only after the new one is live', async () => {
    await rotate(secret('a'));
    target.calls = [];
    const outcome = await rotate(secret('a'));
    expect(outcome.status).toBe('succeeded');
    const v1 = await valueOf('a', 1);
    const v2 = await valueOf('a', 2);
    expect(target.calls).toEqual([`apply:${v2}`, `verify:${v2}`, `retire:${v1}`]);
    expect(await stages('a')).toEqual(['v1:retired', 'v2:current']);
    expect([...target.accepted]).toEqual([v2]);
  });

  it('nothing left behind: the first retire revokes a credential the target accepted before Rotor', async () => {
    target.accepted.add('set-by-hand-before-rotor');
    const outcome = await rotate(secret('a'));
    expect(outcome.status).toBe('succeeded');
    const v1 = await valueOf('a', 1);
    expect(target.calls).toEqual([`apply:${v1}`, `verify:${v1}`, 'retire:(unheld)']);
    expect([...target.accepted]).toEqual([v1]);
  });

  it('a first retire that cannot prove the unheld credential gone fails loudly (the rotation stays in grace)', async () => {
    target.accepted.add('set-by-hand-before-rotor');
    const r = target.rotator();
    target.rotator = () => ({ ...r, retire: async () => ({}) }); // a target that ignores the revoke
    const outcome = await rotate(secret('a'));
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/still accepts a credential Rotor does not hold/);
    expect(outcome.error).not.toContain('set-by-hand-before-rotor');
    expect((await state.openRotations('a')).map((x) => x.status)).toEqual(['grace']);
  });

  it('a warning a step reports rides on the outcome and in the step record, redacted', async () => {
    const r = target.rotator();
    let secretSeen = '';
    target.rotator = () => ({ ...r, apply: async (req) => ((secretSeen = req.pending), { detail: 'applied', warnings: [`not persisted for ${req.pending}: a restart undoes it`] }) });
    const outcome = await rotate(secret('a'));
    expect(outcome.warnings).toEqual(['not persisted for [REDACTED]: a restart undoes it']);
    const steps = await state.steps(outcome.rotationId!);
    expect(steps.find((s) => s.step === 'apply' && s.phase === 'done')?.detail).toBe('applied; warning: not persisted for [REDACTED]: a restart undoes it');
    expect(JSON.stringify(steps)).not.toContain(secretSeen);
  });

  it('keeps the previous value during grace and retires it when the next rotation starts', async () => {
    await rotate(secret('a'), false);
    expect((await rotate(secret('a'), false)).status).toBe('grace');
    expect(await stages('a')).toEqual(['v1:previous', 'v2:current']);
    expect(target.accepted.size).toBe(2);
    await rotate(secret('a'), false);
    expect(await stages('a')).toEqual(['v1:retired', 'v2:previous', 'v3:current']);
  });

  it.each(['apply', 'verify'])('rolls back when %s fails: current untouched, pending withdrawn, exit class 1', async (step) => {
    await rotate(secret('a'));
    const v1 = await valueOf('a', 1);
    target.failAt = step;
    target.calls = [];
    const outcome = await rotate(secret('a'));
    expect(outcome).toMatchObject({ status: 'rolled-back', step });
    const v2 = await valueOf('a', 2);
    expect(target.calls).toEqual(step === 'apply' ? [`apply:${v2}`, `undo:${v2}`] : [`apply:${v2}`, `verify:${v2}`, `undo:${v2}`]);
    expect(await stages('a')).toEqual(['v1:current', 'v2:failed']);
    expect([...target.accepted]).toEqual([v1]);
    expect((await verifyChain(state.auditEvents(), auditKey, 1)).ok).toBe(true);
  });

  it('reports a failed rollback as needing a person, and keeps the rotation open for resume', async () => {
    await rotate(secret('a'));
    target.failAt = 'verify';
    const runner = new Runner(deps);
    const origUndo = target.rotator;
    target.rotator = () => ({ ...origUndo.call(target), undoApply: async () => { throw new Error('target down'); } });
    const [outcome] = await runBatch(deps, [secret('a')], { concurrency: 1 }, (x) =>
      runner.rotate(x, { trigger: 'manual', reason: null, incident: null, noGrace: true }),
    );
    expect(outcome).toMatchObject({ status: 'failed', step: 'verify' });
    expect(outcome!.error).toMatch(/rollback failed: target down/);
    expect((await state.openRotations()).map((r) => r.status)).toEqual(['rolling-back']);
    // The target still accepts both values, and both are stored: the invariant holds.
    for (const v of target.accepted) expect([await valueOf('a', 1), await valueOf('a', 2)]).toContain(v);
  });

  it('fails retire when the target still accepts the old value, and keeps the rotation open', async () => {
    await rotate(secret('a'));
    target.failAt = 'retire';
    const outcome = await rotate(secret('a'));
    expect(outcome).toMatchObject({ status: 'failed', step: 'retire' });
    expect(outcome.hint).toMatch(/rotor retire --force a/);
    expect(await stages('a')).toEqual(['v1:previous', 'v2:current']);
    expect((await state.openRotations())[0]).toMatchObject({ status: 'grace' });
  });

  it('redacts a value a target echoes in its error message', async () => {
    await rotate(secret('a'));
    target.failAt = 'apply';
    target.leak = true;
    const outcome = await rotate(secret('a'));
    const v2 = await valueOf('a', 2);
    expect(outcome.error).toContain('[REDACTED]');
    expect(outcome.error).not.toContain(v2);
    const steps = await state.steps(outcome.rotationId!);
    expect(JSON.stringify(steps)).not.toContain(v2);
    expect(JSON.stringify(await collect(state.auditEvents()))).not.toContain(v2);
  });

  it('rotates many secrets with a concurrency limit, highest priority first, dependencies before dependents', async () => {
    const order: string[] = [];
    deps.onEvent = (e) => e.kind === 'step' && e.step === 'create' && e.phase === 'started' && order.push(e.secretId);
    const secrets = [
      secret('low', { priority: 'low' }), secret('crit', { priority: 'critical' }),
      secret('dep', { priority: 'critical', after: ['low'] }), secret('mid'),
    ];
    const runner = new Runner(deps);
    const outcomes = await runBatch(deps, secrets, { concurrency: 1 }, (x) =>
      runner.rotate(x, { trigger: 'manual', reason: null, incident: null, noGrace: true }),
    );
    expect(outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    expect(order).toEqual(['crit', 'mid', 'low', 'dep']);
  });
});
