/**
 * Stores that show stages to readers outside Rotor (Secrets Manager's staging labels)
 * follow the state store's stages. The state store stays the record; the mirror is brought
 * up to date right after each commit that changes a stage (journal.ts `commit`), at
 * create (which also clears a pending label another rotation left behind), and at retire.
 * A crash between a commit and its mirror leaves a label one step behind until the step
 * runs again on resume, or the next rotation of the secret.
 */
import type { SecretConfig } from '../config/schema.js';
import type { Mutation } from '../state/types.js';
import { isStagedVersionStore, type StagedVersion, type VersionStore } from '../stores/types.js';
import type { EngineDeps } from './context.js';

/** Whether a commit of `mutations` changed the stage of one of `secretId`'s versions. */
export function changesStages(mutations: Mutation[], secretId: string): boolean {
  return mutations.some((m) => (m.kind === 'version.stage' && m.secretId === secretId) || (m.kind === 'version.insert' && m.row.secretId === secretId));
}

/**
 * Makes `store`'s stages those the state store holds for `secret`, changed by `adjust`
 * (a version about to be staged, one about to leave). Returns what it had to take from
 * versions Rotor did not write, and what the store warns about (a replica region behind),
 * for the step's record; nothing for stores without stages. `adopted`: the service's
 * version whose value adopt just took over (SyncStagesRequest.adopted).
 */
export async function mirrorStages(
  deps: EngineDeps, secret: SecretConfig, store: VersionStore, adjust: (versions: StagedVersion[]) => StagedVersion[] = (v) => v, adopted?: string,
): Promise<string[]> {
  if (!isStagedVersionStore(store)) return [];
  const all = await deps.state.versions(secret.id);
  const live = all.filter((v) => v.stage !== 'retired' && v.stage !== 'failed').map((v) => ({ version: v.version, rotationId: v.rotationId, stage: v.stage }));
  const versions = adjust(live);
  const staged = new Set(versions.map((v) => `${v.version}\0${v.rotationId}`));
  // Rotor's own versions that hold no stage now (retired, failed, or leaving in this step).
  const retired = all.filter((v) => !staged.has(`${v.version}\0${v.rotationId}`)).map((v) => ({ version: v.version, rotationId: v.rotationId }));
  const { foreign, warnings = [] } = await store.syncStages({ secretId: secret.id, versions, retired, ...(adopted ? { adopted } : {}) });
  return [...foreign, ...warnings];
}
