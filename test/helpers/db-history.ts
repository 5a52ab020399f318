/**
 * The invariant against a real server, read through the CLI: every stored version is
 * asked at the server; `current` (and `previous`, in grace) must log in, `retired` and
 * `failed` must be refused.
 */
import { expect } from 'vitest';
import type { Sandbox } from './sandbox.js';
import type { Accepts, DbValue } from './logins.js';

export interface HistoryJson {
  versions: { version: number; stage: string }[];
  rotations: { id: string; status: string; trigger: string }[];
}

export async function storedValues(sb: Sandbox, id: string): Promise<{ version: number; stage: string; value: DbValue }[]> {
  const h = await sb.json<HistoryJson>(['history', id]);
  return Promise.all(
    h.versions.map(async (v) => ({ ...v, value: JSON.parse((await sb.ok(['get', id, '--version', String(v.version)])).stdout) as DbValue })),
  );
}

export async function expectServerAgrees(sb: Sandbox, id: string, accepts: Accepts): Promise<DbValue> {
  const stored = await storedValues(sb, id);
  const current = stored.filter((v) => v.stage === 'current');
  expect(current, `${id}: one current version`).toHaveLength(1);
  for (const v of stored) {
    const ok = await accepts(v.value);
    const want = v.stage === 'current' || v.stage === 'previous';
    expect(ok, `${id} v${v.version} (${v.stage}, login ${v.value.username}) ${want ? 'must log in' : 'must be refused'}`).toBe(want);
  }
  return current[0]!.value;
}
