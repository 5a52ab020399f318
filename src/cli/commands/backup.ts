/**
 * `rotor backup create --out FILE` / `rotor backup restore FILE` / `rotor backup verify FILE`:
 * every stored version of every secret in one file encrypted under a passphrase
 * (ROTOR_BACKUP_PASSPHRASE or --passphrase-file) or a 32-byte key file (--key-file) —
 * never the master key, and never a secret on the command line.
 *
 * Restore fills in secrets the state does not have yet (a new machine after `rotor init`);
 * a secret it already has must match the backup version for version, or nothing at all is
 * restored.
 *
 * `rotor backup files …` is about another kind of copy — of the files deliveries replaced —
 * and lives in backup-files.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openArchive, sealArchive, type Archive, type BackupSecret, type OpenRotation } from '../../backup/archive.js';
import type { SecretConfig } from '../../config/schema.js';
import { fingerprint } from '../../crypto/fingerprint.js';
import { IntegrityError, UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import type { Mutation, RotationRow } from '../../state/types.js';
import { parse } from '../args.js';
import { openConfig, openEngine, type Engine } from '../open.js';
import { FILES_USAGE, runFiles } from './backup-files.js';

const USAGE = `rotor backup create --out FILE | restore FILE | verify FILE   [--key-file F | --passphrase-file F]
  the passphrase comes from ROTOR_BACKUP_PASSPHRASE or --passphrase-file, never from the command line
${FILES_USAGE}`;

export async function run(args: string[]): Promise<number> {
  if (args[0] === 'files') return runFiles(args.slice(1));
  const parsed = parse(args, { out: { type: 'string' }, 'key-file': { type: 'string' }, 'passphrase-file': { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, file] = positionals;
  const secret = backupSecret(values['key-file'], values['passphrase-file']);
  // Backups move stored versions only: no target is reached, so its credentials are not needed.
  const config = openConfig(values.config, { readOnly: true });
  if (action === 'create' && positionals.length === 1) {
    if (!values.out) throw new UsageError('say where to write the backup with --out FILE');
    return create(config, resolve(values.out), secret, Boolean(values.json));
  }
  if ((action === 'restore' || action === 'verify') && positionals.length === 2) {
    const path = resolve(file!);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
    }
    const { archive, createdAt } = await openArchive(path, bytes, secret);
    const versions = archive.secrets.reduce((n, s) => n + s.versions.length, 0);
    if (action === 'verify') {
      report(values.json, { file: path, createdAt, secrets: archive.secrets.length, versions }, `${path}: intact, made ${createdAt}: ${archive.secrets.length} secrets, ${versions} versions\n`);
      return 0;
    }
    return restore(config, archive, path, Boolean(values.json));
  }
  throw new UsageError('unknown backup command', USAGE);
}

function backupSecret(keyFile: string | undefined, passphraseFile: string | undefined): BackupSecret {
  if (keyFile && passphraseFile) throw new UsageError('give --key-file or --passphrase-file, not both');
  const read = (p: string) => {
    try {
      return readFileSync(p);
    } catch (err) {
      throw new UsageError(`cannot read ${p}: ${(err as Error).message}`);
    }
  };
  if (keyFile) return { keyFile: read(keyFile) };
  const passphrase = passphraseFile ? read(passphraseFile).toString('utf8').replace(/\r?\n$/, '') : process.env.ROTOR_BACKUP_PASSPHRASE;
  if (!passphrase) throw new UsageError('no backup passphrase', 'set ROTOR_BACKUP_PASSPHRASE, or give --passphrase-file or --key-file');
  if (passphrase.length < 12) throw new UsageError('the backup passphrase is too short', 'use at least 12 characters');
  return { passphrase };
}

const report = (json: boolean | undefined, data: object, text: string) => process.stdout.write(json ? `${JSON.stringify(data)}\n` : text);

/** Every secret the state knows, with its config when rotor.yaml still names it. */
async function secretsOf(engine: Engine): Promise<SecretConfig[]> {
  const configured = new Map(engine.deps.config.secrets.map((s) => [s.id, s]));
  const ids = new Set([...configured.keys(), ...(await engine.state.summaries()).keys()]);
  return [...ids].sort().map((id) => configured.get(id) ?? ({ id, store: 'local' } as SecretConfig));
}

async function create(config: ReturnType<typeof openConfig>, out: string, secret: BackupSecret, json: boolean): Promise<number> {
  const engine = await openEngine(config);
  try {
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
        versions.push({ version: row.version, stage: row.stage, createdAt: row.createdAt, stageChangedAt: row.stageChangedAt, rotationId: row.rotationId, value: text });
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
    await engine.state.commit([audit(engine, 'backup.created', `${archive.secrets.length} secrets, ${versions} versions to ${out}`)]);
    report(json, { file: out, secrets: archive.secrets.length, versions }, `wrote ${out}: ${archive.secrets.length} secrets, ${versions} versions, encrypted\n`);
    return 0;
  } finally {
    await engine.close();
  }
}

async function restore(config: ReturnType<typeof openConfig>, archive: Archive, file: string, json: boolean): Promise<number> {
  const engine = await openEngine(config);
  try {
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
            fingerprint: fingerprint(engine.deps.fingerprintKey, secret.id, v.value),
          },
        });
        restored++;
      }
      for (const row of reopenedRotations(entry, Date.now())) {
        mutations.push({ kind: 'rotation.insert', row: { ...row, secretId: entry.id, finishedAt: null } });
        reopened++;
      }
    }
    mutations.push(audit(engine, 'backup.restored', `${restored} versions of ${todo.length} secrets from ${file}; ${matching} already present; ${reopened} open rotations`));
    await engine.state.commit(mutations);
    report(json, { file, restoredVersions: restored, secrets: todo.length, alreadyPresent: matching, openRotations: reopened },
      `restored ${restored} versions of ${todo.length} secrets from ${file}${matching ? `; ${matching} versions were already here and match` : ''}\n` +
      (reopened ? `${reopened} rotation${reopened === 1 ? ' was' : 's were'} open in the backup: run \`rotor resume\`, then \`rotor retire\` when grace ends\n` : ''));
    return 0;
  } finally {
    await engine.close();
  }
}

/**
 * The open rotations a restored secret needs: those the backup carried, and for versions
 * no carried rotation explains, one that finishes them — a `previous` gets a grace that has
 * ended (so `retire` revokes it), a `pending` a rollback (so `resume` withdraws it from the
 * target, which may hold it).
 */
export function reopenedRotations(entry: Archive['secrets'][number], now: number): Omit<RotationRow, 'secretId' | 'finishedAt'>[] {
  const out: Omit<RotationRow, 'secretId' | 'finishedAt'>[] = entry.rotations.map((r) => ({ ...r }));
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

function audit(engine: Engine, action: string, detail: string): Mutation {
  return {
    kind: 'audit',
    event: { at: Date.now(), actor: engine.deps.actor, action, secretId: null, version: null, rotationId: null, outcome: 'ok', reason: null, incident: null, detail },
  };
}
