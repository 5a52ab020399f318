import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { RotorConfig, SecretConfig } from '../../src/config/schema.js';
import type { AnyRotator } from '../../src/engine/context.js';
import { Redactor } from '../../src/engine/redact.js';
import { StepTimeoutError, wrapRotator, type RotatorCall } from '../../src/engine/rotator-wrap.js';
import { TargetUnreachableError } from '../../src/errors.js';

const secret = { id: 'db/app', timeoutsMs: { apply: 50 } } as SecretConfig;
const config = { secrets: [secret], stepTimeoutMs: 60_000 } as unknown as RotorConfig;
const req = { secretId: 'db/app', spec: {}, target: undefined, signal: new AbortController().signal };

function fake(over: Partial<AnyRotator>): AnyRotator {
  const none = () => Promise.reject(new Error('not used'));
  return { preflight: none, generate: none, apply: none, verify: none, undoApply: none, retire: none, checkRejected: none, close: async () => {}, ...over };
}

describe('wrapRotator', () => {
  it('fails a step that outlives its timeout, naming step and timeout, and fires the request signal', async () => {
    let seen: AbortSignal | undefined;
    const calls: RotatorCall[] = [];
    const rotator = wrapRotator(fake({ apply: (r) => { seen = r.signal; return new Promise(() => {}); } }), { config, onCall: (c) => calls.push(c) });
    const err = await rotator.apply({ ...req, pending: 'x', current: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepTimeoutError);
    expect((err as Error).message).toBe('apply of db/app timed out after 50ms');
    expect(seen?.aborted).toBe(true);
    expect(calls).toMatchObject([{ secretId: 'db/app', method: 'apply', step: 'apply', ok: false }]);
  });

  it('uses defaults.stepTimeout for steps the secret does not name', async () => {
    const rotator = wrapRotator(fake({ verify: async (r) => ({ detail: r.signal.aborted ? 'aborted' : 'ok' }) }), { config });
    expect(await rotator.verify({ ...req, value: 'x' })).toEqual({ detail: 'ok' });
  });

  it("passes the caller's abort on to the rotator, and leaves no listener on the caller's signal", async () => {
    const outer = new AbortController();
    let seen: AbortSignal | undefined;
    const rotator = wrapRotator(fake({
      verify: async () => ({ detail: 'ok' }),
      apply: (r) => { seen = r.signal; return new Promise((_, reject) => r.signal.addEventListener('abort', () => reject(new Error('cut off')))); },
    }), { config });
    for (let i = 0; i < 20; i++) await rotator.verify({ ...req, signal: outer.signal, value: 'x' });
    expect(getEventListeners(outer.signal, 'abort')).toHaveLength(0);
    const applying = rotator.apply({ ...req, signal: outer.signal, pending: 'x', current: undefined }).catch((e: unknown) => e);
    outer.abort(new Error('interrupted'));
    expect(((await applying) as Error).message).toBe('cut off');
    expect(seen?.aborted).toBe(true);
    expect(getEventListeners(outer.signal, 'abort')).toHaveLength(0);
  });

  it('redacts what a rotator throws and reports, keeping the error class', async () => {
    const redactor = new Redactor();
    redactor.register('leaked-password');
    const rotator = wrapRotator(fake({
      apply: async () => ({ detail: 'set leaked-password', warnings: ['w leaked-password'] }),
      verify: () => Promise.reject(new TargetUnreachableError('login leaked-password refused')),
    }), { config, redactor });
    expect(await rotator.apply({ ...req, pending: 'x', current: undefined })).toEqual({ detail: 'set [REDACTED]', warnings: ['w [REDACTED]'] });
    const err = await rotator.verify({ ...req, value: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetUnreachableError);
    expect((err as Error).message).toBe('login [REDACTED] refused');
  });
});
