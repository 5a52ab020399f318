/** Two processes rotating the same secrets at once: each secret rotates once, nothing corrupt. */
import { afterAll, expect, it } from 'vitest';
import { Sandbox, randomSecrets } from '../helpers/sandbox.js';
import { expectInvariant } from '../helpers/invariant.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

it('two `rotor rotate` of the same secret at once: one rotation, the other refused with a clear message', async () => {
  const sb = new Sandbox(randomSecrets(1));
  sandboxes.push(sb);
  await sb.ok(['init']);
  await sb.ok(['rotate', 'app/key-0', '--no-grace']);
  for (let round = 0; round < 5; round++) {
    const [a, b] = await Promise.all([sb.run(['rotate', 'app/key-0', '--no-grace']), sb.run(['rotate', 'app/key-0', '--no-grace'])]);
    const codes = [a.code, b.code].sort();
    // Either they overlapped (one busy: exit 2 with who holds the lock) or they ran one after the other.
    expect([[0, 0], [0, 2]]).toContainEqual(codes);
    for (const r of [a, b]) if (r.code === 2) expect(r.stdout).toMatch(/BUSY\s+app\/key-0\s+locked by pid \d+/);
  }
  const h = await sb.json<{ versions: unknown[]; rotations: { status: string }[] }>(['history', 'app/key-0']);
  expect(h.rotations.every((r) => r.status === 'succeeded')).toBe(true);
  expect(h.versions).toHaveLength(h.rotations.length);
  await expectInvariant(sb, 'app/key-0', /^[A-Za-z0-9_-]{32}$/);
});

it('two `rotor rotate --all` over 40 secrets at once: every secret rotated exactly once per winning process', async () => {
  const sb = new Sandbox(randomSecrets(40));
  sandboxes.push(sb);
  await sb.ok(['init']);
  const [a, b] = await Promise.all([sb.run(['rotate', '--all', '--no-grace', '--json']), sb.run(['rotate', '--all', '--no-grace', '--json'])]);
  const outcomes = [...JSON.parse(a.stdout).outcomes, ...JSON.parse(b.stdout).outcomes] as { secretId: string; status: string }[];
  const rotated = outcomes.filter((o) => o.status === 'succeeded').map((o) => o.secretId);
  const busy = outcomes.filter((o) => o.status === 'busy').map((o) => o.secretId);
  expect(rotated.length + busy.length).toBe(80);
  const status = await sb.json<{ secrets: { id: string; currentVersion: number; stages: Record<string, number> }[] }>(['status']);
  for (const s of status.secrets) {
    const times = rotated.filter((id) => id === s.id).length;
    expect(times).toBeGreaterThanOrEqual(1);
    expect(s.currentVersion).toBe(times);
    expect(s.stages.pending ?? 0).toBe(0);
  }
  await sb.ok(['audit', 'verify']);
});
