/**
 * The rotator itself, loaded through `rotatorRegistry[type].load()` as the engine loads it,
 * with requests built as engine/rotator-pool.ts `requestFor` builds them: each method called
 * twice, and the target asked after each call.
 */
import { expect } from 'vitest';
import { rotatorRegistry } from '../../../src/rotators/registry.js';
import type { AnyRotatorDefinition, Rotator, SecretValue, TargetRef } from '../../../src/rotators/types.js';
import { expectNothing } from './session.js';
import { ID, type ConformanceLine, type Ctx, type Existing } from './types.js';

/** The rotator as the engine holds it, with requests built as engine/rotator-pool.ts `requestFor` builds them. */
async function loadRotator<V extends SecretValue>(line: ConformanceLine<V>, ctx: Ctx, login: string) {
  const definition: AnyRotatorDefinition = rotatorRegistry[line.type];
  const rotator = (await definition.load())({ now: () => performance.now(), baseDir: ctx.dir }) as unknown as Rotator<unknown, V>;
  const target: TargetRef | undefined = line.target ? { name: 'main', type: line.target.type, url: line.target.url() } : undefined;
  const base = { secretId: ID, spec: definition.schema.parse(line.fields(login)), target, signal: new AbortController().signal };
  return { rotator, base };
}

/** (a): preflight, generate, apply, verify, undoApply, retire and checkRejected, each twice. */
export async function idempotency<V extends SecretValue>(line: ConformanceLine<V>, ctx: Ctx, login: string): Promise<void> {
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
export async function retireUnheld<V extends SecretValue>(line: ConformanceLine<V>, ctx: Ctx, login: string, before: Existing<V>): Promise<void> {
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
