/**
 * One secret's versions and rotations, metadata only, with the warnings its newest rotations
 * recorded. Behind `rotor history` and `GET /v1/secrets/{id}/history`.
 */
import type { RotorConfig } from '../config/schema.js';
import { NotFoundError } from '../errors.js';
import { openState } from './engine.js';

export async function secretHistory(config: RotorConfig, id: string) {
  const state = await openState(config);
  const versions = await state.versions(id);
  const rotations = await state.rotations(id);
  // Warnings ride in step records ("warning: …"): listed per rotation, newest rotations only.
  const warnings = new Map<string, string[]>();
  for (const r of rotations.slice(-20)) {
    const found = (await state.steps(r.id)).flatMap((s) => (s.detail ?? '').split('; ').filter((part) => part.startsWith('warning: ')).map((part) => `${s.step}: ${part.slice(9)}`));
    if (found.length) warnings.set(r.id, found);
  }
  await state.close();
  // A secret removed from rotor.yaml keeps its history; one neither configured nor recorded is not found (HTTP 404).
  if (!config.secrets.some((s) => s.id === id) && !versions.length) {
    throw new NotFoundError(`unknown secret: ${id}`, 'see `rotor status` for the ids in rotor.yaml');
  }
  return { secretId: id, versions, rotations, warnings };
}
