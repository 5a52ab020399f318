/**
 * Backups of the state: every stored version of every secret in one file encrypted under a
 * passphrase or a 32-byte key file (never the master key), and their restore and verify.
 *
 * Restore fills in secrets the state does not have yet (a new machine after `rotor init`);
 * a secret it already has must match the backup version for version, or nothing at all is
 * restored. Backups move stored versions only: no target is reached.
 */
import { readFileSync } from 'node:fs';
import { openArchive, sealArchive, type Archive, type BackupSecret, type OpenRotation } from '../backup/archive.js';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import { fingerprint } from '../crypto/fingerprint.js';
import { IntegrityError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Mutation, RotationRow } from '../state/types.js';
import { stateAudit, withEngine, type Engine } from './engine.js';

export type { BackupSecret };

/** Every secret the state knows, with its config when rotor.yaml still names it. */
async function secretsOf(engine: Engine): Promise<SecretConfig[]> {
  const configured = new Map(engine.deps.config.secrets.map((s) => [s.id, s]));
  const ids = new Set([...configured.keys(), ...(await engine.state.summaries()).keys()]);
  return [...ids].sort().map((id) => configured.get(id) ?? ({ id, store: 'local' } as SecretConfig));
}

/** Writes a new backup to `out` (never over an existing file), each value checked against its fingerprint first. */
export async function createBackup(config: RotorConfig, out: string, secret: BackupSecret): Promise<{ file: string; secrets: number; versions: number }> {
  return withEngine(config, async (engine) => {
    const archive: Archive = { secrets: [] };
    for (const s of await secretsOf(engine)) {
      const rows = await engine.state.versions(s.id);
      if (!rows.length) continue;
      const store = engine.deps.storeFor(s);
      const versions = [];
      for (const row of rows) {
        const text = await store.getVersion({ secretId: s.id, version: row.version, rotationId: row.rotationId });
        if (text === undefined) throw new IntegrityError(`${s.id} v${row.version}`, 'is recorded in the state but missing from the vault; the backup was not written');
        if (fingerprint(engine.deps.fingerprintKey, s.id, text) !== row.fingerprint) {
          throw new IntegrityError(`${s.id} v${row.version}`, 'does not match its recorded fingerprint; the backup was not written');
        }
        versions.push({
          version: row.version, stage: row.stage, createdAt: row.createdAt, stageChangedAt: row.stageChangedAt, rotationId: row.rotationId,
          ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt }),
          value: text,
        });
      }
      // Open rotations travel with their versions: after a restore, `resume` finishes them
      // and `retire` ends their grace (a previous version is never left unretirable).
      const rotations = (await engine.state.openRotations(s.id)).map((r) => ({
        id: r.id, trigger: r.trigger, reason: r.reason, incident: r.incident, actor: r.actor, status: r.status as OpenRotation['status'],
        fromVersion: r.fromVersion, toVersion: r.toVersion, graceMs: r.graceMs, step: r.step, phase: r.phase, retireAfter: r.retireAfter,
        startedAt: r.startedAt, error: r.error,
      }));
      archive.secrets.push({ id: s.id, versions, rotations });
    }
    try {
      await writeFileAtomic(out, await sealArchive(archive, secret), { mode: 0o600, noReplace: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${out} exists`, 'choose a new file name; Rotor never overwrites a backup');
      throw err;
    }
    const versions = archive.secrets.reduce((n, s) => n + s.versions.length, 0);
    await engine.state.commit([stateAudit(engine, 'backup.created', `${archive.secrets.length} secrets, ${versions} versions to ${out}`)]);
    return { file: out, secrets: archive.secrets.length, versions };
  });
}

/** Reads and decrypts a backup; a changed byte or the wrong passphrase is an error. */
export async function openBackup(path: string, secret: BackupSecret): Promise<{ archive: Archive; createdAt: string }> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return openArchive(path, bytes, secret);
}

export async function verifyBackup(path: string, secret: BackupSecret): Promise<{ file: string; createdAt: string; secrets: number; versions: number }> {
  const { archive, createdAt } = await openBackup(path, secret);
  const versions = archive.secrets.reduce((n, s) => n + s.versions.length, 0);
  return { file: path, createdAt, secrets: archive.secrets.length, versions };
}

export interface RestoreResult {
  file: string;
  restoredVersions: number;
  secrets: number;
  alreadyPresent: number;
  openRotations: number;
}

/** Restores a backup into this state: all of it, or nothing when anything conflicts. */
export async function restoreBackup(config: RotorConfig, file: string, backupSecret: BackupSecret): Promise<RestoreResult> {
  const { archive } = await openBackup(file, backupSecret);
  return withEngine(config, async (engine) => {
    const known = new Map((await secretsOf(engine)).map((s) => [s.id, s]));
    const conflicts: string[] = [];
    const todo: { secret: SecretConfig; entry: Archive['secrets'][number] }[] = [];
    let matching = 0;
    // Check everything first: a restore either writes all it has to, or nothing.
    for (const entry of archive.secrets) {
      const secret = known.get(entry.id) ?? ({ id: entry.id, store: 'local' } as SecretConfig);
      if (!Object.hasOwn(config.stores, secret.store)) { conflicts.push(`${entry.id}: its store "${secret.store}" is not in rotor.yaml`); continue; }
      const misfit = secret.type === undefined ? [] : entry.versions.filter((v) => !engine.deps.definitionOf(secret).valueSchema.safeParse(JSON.parse(v.value)).success);
      for (const v of misfit) conflicts.push(`${entry.id} v${v.version}: its value is not a ${secret.type} value (has the secret's type changed in rotor.yaml?)`);
      const rows = new Map((await engine.state.versions(entry.id)).map((r) => [r.version, r]));
      if (!rows.size) {
        todo.push({ secret, entry });
        continue;
      }
      for (const v of entry.versions) {
        const row = rows.get(v.version);
        if (!row) conflicts.push(`${entry.id} v${v.version}: not in the state, which already holds other versions of this secret`);
        else if (row.fingerprint !== fingerprint(engine.deps.fingerprintKey, entry.id, v.value)) conflicts.push(`${entry.id} v${v.version}: differs from the stored value`);
        else matching++;
      }
    }
    if (conflicts.length) {
      throw new UsageError(`nothing restored: ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'} with what this state already holds:\n  ${conflicts.slice(0, 20).join('\n  ')}`,
        'restore into a fresh directory (`rotor init` with a new state), or remove the conflicting secrets from this one');
    }
    const mutations: Mutation[] = [];
    let restored = 0;
    let reopened = 0;
    for (const { secret, entry } of todo) {
      const store = engine.deps.storeFor(secret);
      const { versions } = entry;
      for (const v of versions) {
        const existing = await store.getVersion({ secretId: secret.id, version: v.version, rotationId: v.rotationId });
        if (existing === undefined) await store.putVersion({ secretId: secret.id, version: v.version, rotationId: v.rotationId, plaintext: v.value });
        else if (existing !== v.value) throw new UsageError(`nothing restored: ${secret.id} v${v.version} is already in the vault with a different value`);
        mutations.push({
          kind: 'version.insert',
          row: {
            secretId: secret.id, version: v.version, stage: v.stage, createdAt: v.createdAt, stageChangedAt: v.stageChangedAt, rotationId: v.rotationId,
            fingerprint: fingerprint(engine.deps.fingerprintKey, secret.id, v.value), expiresAt: v.expiresAt ?? null,
          },
        });
        restored++;
      }
      for (const row of reopenedRotations(entry, Date.now())) {
        mutations.push({ kind: 'rotation.insert', row: { ...row, secretId: entry.id, finishedAt: null } });
        reopened++;
      }
    }
    mutations.push(stateAudit(engine, 'backup.restored', `${restored} versions of ${todo.length} secrets from ${file}; ${matching} already present; ${reopened} open rotations`));
    await engine.state.commit(mutations);
    return { file, restoredVersions: restored, secrets: todo.length, alreadyPresent: matching, openRotations: reopened };
  });
}

/**
 * The open rotations a restored secret needs: those the backup carried, and for versions
 * no carried rotation explains, one that finishes them — a `previous` gets a grace that has
 * ended (so `retire` revokes it), a `pending` a rollback (so `resume` withdraws it from the
 * target, which may hold it).
 */
export function reopenedRotations(entry: Archive['secrets'][number], now: number): Omit<RotationRow, 'secretId' | 'finishedAt'>[] {
  // A rotation interrupted mid-way is withdrawn, not finished: the state it resumes in is a
  // restored copy, and the target may have moved on since the backup was taken.
  const out: Omit<RotationRow, 'secretId' | 'finishedAt'>[] = entry.rotations.map((r) =>
    r.status === 'running' ? { ...r, status: 'rolling-back', phase: 'failed', error: r.error ?? 'restored from a backup taken mid-rotation: withdrawn' } : { ...r });
  const covered = new Set(out.flatMap((r) => [r.fromVersion, r.toVersion]));
  const current = entry.versions.find((v) => v.stage === 'current')?.version ?? null;
  const base = { trigger: 'manual' as const, reason: 'restored from a backup', incident: null, actor: 'rotor backup restore', startedAt: now, graceMs: 0 };
  for (const v of entry.versions) {
    if (covered.has(v.version)) continue;
    if (v.stage === 'previous' && current !== null) {
      out.push({ ...base, id: `${v.rotationId}-restored`, status: 'grace', fromVersion: v.version, toVersion: current, step: 'propagate', phase: 'done', retireAfter: now, error: null });
    }
    if (v.stage === 'pending') {
      out.push({ ...base, id: `${v.rotationId}-restored`, status: 'rolling-back', fromVersion: current, toVersion: v.version, step: 'verify', phase: 'failed', retireAfter: null, error: 'restored from a backup with this version pending: withdrawn' });
    }
  }
  return out;
}
