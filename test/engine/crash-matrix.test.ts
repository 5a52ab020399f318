/**
 * Crash at each of the 12 step boundaries in a real child process (SIGKILL via
 * ROTOR_CRASH_AT), then `rotor resume`: the invariant holds and the audit chain verifies.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, randomSecrets } from '../helpers/sandbox.js';
import { expectInvariant } from '../helpers/invariant.js';

const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
const BOUNDARIES = STEPS.flatMap((s) => [`${s}:before`, `${s}:after`]);
const SECRETS = ['app/key-0', 'app/key-1', 'app/key-2'];

describe.concurrent('crash at every step boundary, then resume', () => {
  const sandboxes: Sandbox[] = [];
  afterAll(() => sandboxes.forEach((s) => s.remove()));

  it.each(BOUNDARIES)('%s', async (boundary) => {
    const sb = new Sandbox(randomSecrets(3));
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all', '--no-grace']);
    const before: Record<string, string> = {};
    for (const id of SECRETS) before[id] = (await sb.ok(['get', id])).stdout.trim();

    const crashed = await sb.run(['rotate', '--all', '--no-grace', '--reason', 'crash test'], { ROTOR_CRASH_AT: boundary });
    expect(crashed.signal).toBe('SIGKILL');

    // Before resume, the value staged current still is a stored, valid value.
    for (const id of SECRETS) expect((await sb.ok(['get', id])).stdout.trim()).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // A new rotation refuses to start over an interrupted one and says what to do.
    const refused = await sb.run(['rotate', 'app/key-0']);
    if (refused.code !== 0) expect(refused.stdout + refused.stderr).toMatch(/rotor resume/);

    const resumed = await sb.ok(['resume']);
    expect(resumed.stdout).not.toMatch(/FAILED|ROLLED BACK/);
    for (const id of SECRETS) {
      const { current, all } = await expectInvariant(sb, id, /^[A-Za-z0-9_-]{32}$/);
      const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', id]);
      // Resume finishes the rotation: a new value is current and the old one is retired.
      expect(current).not.toBe(before[id]);
      expect(all).toContain(before[id]);
      expect(h.versions.find((v) => v.stage === 'current')!.version).toBeGreaterThan(1);
      expect(h.versions.filter((v) => v.stage === 'previous')).toHaveLength(0);
    }
    // Nothing left for a second resume.
    expect((await sb.ok(['resume'])).stdout).toMatch(/nothing to resume/);
  });
});
