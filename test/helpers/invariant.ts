/**
 * The SPEC invariant, checked from outside through the CLI: every stored version decrypts
 * to the value its fingerprint names, exactly one version is current and it is a valid
 * value of its spec, nothing is left pending or open, and the audit chain verifies.
 */
import { expect } from 'vitest';
import type { Sandbox } from './sandbox.js';

interface History {
  versions: { version: number; stage: string; fingerprint: string }[];
  rotations: { id: string; status: string }[];
}

export async function expectInvariant(sb: Sandbox, secretId: string, valuePattern: RegExp): Promise<{ current: string; all: string[] }> {
  const h = await sb.json<History>(['history', secretId]);
  const current = h.versions.filter((v) => v.stage === 'current');
  expect(current, `${secretId}: exactly one current`).toHaveLength(1);
  expect(h.versions.filter((v) => v.stage === 'pending'), `${secretId}: nothing pending`).toHaveLength(0);
  expect(h.rotations.filter((r) => ['running', 'rolling-back'].includes(r.status)), `${secretId}: nothing open`).toHaveLength(0);
  const all: string[] = [];
  for (const v of h.versions) all.push((await sb.ok(['get', secretId, '--version', String(v.version)])).stdout.trim());
  for (const value of all) expect(value).toMatch(valuePattern);
  const cur = (await sb.ok(['get', secretId])).stdout.trim();
  expect(cur).toBe(all[h.versions.indexOf(current[0]!)]);
  await sb.ok(['audit', 'verify']);
  return { current: cur, all };
}
