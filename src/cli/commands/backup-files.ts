/**
 * `rotor backup files [--json]` lists the sealed copies deliveries kept of the files they
 * replaced (backup/delivery-backups.ts); `rotor backup files --restore PATH [--nth K]` puts
 * the K-th newest back (1 by default) through the same safe replace a delivery uses — and
 * keeps what it replaces as a copy, so a restore can be undone the same way.
 * `--seal-legacy` seals the plaintext copies older versions of Rotor left behind.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { listDeliveryBackups, type BackedUpFile } from '../../backup/delivery-backups.js';
import { legacyCopies } from '../../backup/legacy-copies.js';
import type { RotorConfig } from '../../config/schema.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { resolveTarget } from '../../fs/safe-path.js';
import { replaceFile } from '../../fs/safe-replace.js';
import type { Mutation } from '../../state/types.js';
import { intFlag, parse } from '../args.js';
import { deliveryBackupsDir, openConfig, openEngine, type Engine } from '../open.js';

export const FILES_USAGE = `rotor backup files [--json] | --restore PATH [--nth K] | --seal-legacy
  copies of the files deliveries replaced, sealed under the master key; the last defaults.deliveryBackups (5) of each`;

export async function runFiles(args: string[]): Promise<number> {
  const parsed = parse(args, { restore: { type: 'string' }, nth: { type: 'string' }, 'seal-legacy': { type: 'boolean' } }, FILES_USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`, `usage: ${FILES_USAGE}`);
  if (values.nth !== undefined && values.restore === undefined) throw new UsageError('--nth goes with --restore PATH');
  const config = openConfig(values.config, { readOnly: true });
  if (values.restore !== undefined) {
    return withEngine(config, (engine) => restore(engine, values.restore!, intFlag(values.nth, 'nth', 1, 1000) ?? 1, Boolean(values.json)));
  }
  if (values['seal-legacy']) return withEngine(config, (engine) => sealLegacy(config, engine, Boolean(values.json)));
  return list(config, Boolean(values.json));
}

async function withEngine(config: RotorConfig, fn: (engine: Engine) => Promise<number>): Promise<number> {
  const engine = await openEngine(config);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

function list(config: RotorConfig, json: boolean): number {
  const files = listDeliveryBackups(deliveryBackupsDir(config));
  const legacy = legacyCopies(config);
  if (json) {
    const out = files.map((f) => ({ file: f.file, copies: f.copies.map((c, i) => ({ nth: i + 1, at: c.at.toISOString(), bytes: c.bytes })) }));
    process.stdout.write(`${JSON.stringify({ files: out, legacyPlaintext: legacy.length })}\n`);
  } else {
    if (!files.length) process.stdout.write('no copies of delivered files\n');
    for (const f of files) {
      process.stdout.write(`${f.file}\n`);
      f.copies.forEach((c, i) => process.stdout.write(`  ${String(i + 1).padStart(3)}  ${c.at.toISOString()}  ${c.bytes} bytes sealed\n`));
    }
  }
  if (legacy.length) {
    process.stderr.write(`rotor: warning: ${legacy.length} plaintext cop${legacy.length === 1 ? 'y' : 'ies'} from an older Rotor under .rotor/backups hold retired values\n`
      + '  → run `rotor backup files --seal-legacy` to seal them and delete the plaintext\n');
  }
  return 0;
}

/** The file `path` names among those with copies: as given, or the file its links lead to. */
function fileOf(files: BackedUpFile[], path: string): BackedUpFile {
  const given = resolve(path);
  let real: string | undefined;
  try {
    real = resolveTarget(given).real;
  } catch {
    // The file may be gone or unsafe now; its copies are still found by the path given.
  }
  const found = files.find((f) => f.file === given || f.file === real);
  if (!found) throw new NotFoundError(`no copies of ${given}`, 'run `rotor backup files` to see the files with copies');
  return found;
}

async function restore(engine: Engine, path: string, nth: number, json: boolean): Promise<number> {
  const { backups } = engine;
  const entry = fileOf(backups.list(), path);
  const copy = entry.copies[nth - 1];
  if (!copy) throw new UsageError(`${entry.file} has ${entry.copies.length} cop${entry.copies.length === 1 ? 'y' : 'ies'}; --nth ${nth} is not one of them`);
  const text = backups.read(entry.file, copy);
  const change = await replaceFile(entry.file, () => text, { backups });
  const at = copy.at.toISOString();
  await engine.state.commit([audit(engine, 'backup.file-restored', `${entry.file} from the copy taken ${at}${change.changed ? '' : ' (it already held that text)'}`)]);
  if (json) process.stdout.write(`${JSON.stringify({ file: entry.file, from: at, nth, changed: change.changed })}\n`);
  else process.stdout.write(change.changed ? `restored ${entry.file} as it was before ${at}; what it held is kept as the newest copy\n` : `${entry.file} already holds the copy of ${at}\n`);
  return 0;
}

async function sealLegacy(config: RotorConfig, engine: Engine, json: boolean): Promise<number> {
  const { backups } = engine;
  const copies = legacyCopies(config).sort((a, b) => (a.at?.getTime() ?? 0) - (b.at?.getTime() ?? 0));
  const left: string[] = [];
  let sealed = 0;
  for (const c of copies) {
    if (!c.file) {
      left.push(c.path);
      continue;
    }
    let file = c.file;
    try {
      file = resolveTarget(c.file).real;
    } catch {
      // Sealed under the configured path.
    }
    await backups.save(file, readFileSync(c.path, 'utf8'), c.at);
    unlinkSync(c.path);
    sealed++;
  }
  if (sealed) await engine.state.commit([audit(engine, 'backup.legacy-sealed', `${sealed} plaintext copies sealed and deleted; ${left.length} left`)]);
  if (json) process.stdout.write(`${JSON.stringify({ sealed, left })}\n`);
  else {
    process.stdout.write(`sealed ${sealed} plaintext cop${sealed === 1 ? 'y' : 'ies'} and deleted the plaintext\n`);
    if (left.length) process.stdout.write(`${left.length} could not be matched to a file in rotor.yaml; they hold retired values in plaintext — delete them:\n  ${left.join('\n  ')}\n`);
  }
  return left.length ? 1 : 0;
}

function audit(engine: Engine, action: string, detail: string): Mutation {
  return {
    kind: 'audit',
    event: { at: Date.now(), actor: engine.deps.actor, action, secretId: null, version: null, rotationId: null, outcome: 'ok', reason: null, incident: null, detail },
  };
}
