/**
 * `rotor backup files [--json]` lists the sealed copies deliveries kept of the files they
 * replaced; `rotor backup files --restore PATH [--nth K]` puts the K-th newest back (1 by
 * default); `--seal-legacy` seals the plaintext copies older versions of Rotor left behind
 * (app/delivery-backup.ts).
 */
import { listFileCopies, restoreFileCopy, sealLegacyCopies } from '../../app/delivery-backup.js';
import { exitCodeForSealLegacy } from '../../app/outcomes.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse } from '../args.js';
import { openConfig } from '../open.js';

export const FILES_USAGE = `rotor backup files [--json] | --restore PATH [--nth K] | --seal-legacy
  copies of the files deliveries replaced, sealed under the master key; the last defaults.deliveryBackups (5) of each`;

export async function runFiles(args: string[]): Promise<number> {
  const parsed = parse(args, { restore: { type: 'string' }, nth: { type: 'string' }, 'seal-legacy': { type: 'boolean' } }, FILES_USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`, `usage: ${FILES_USAGE}`);
  if (values.nth !== undefined && values.restore === undefined) throw new UsageError('--nth goes with --restore PATH');
  const config = openConfig(values.config, { readOnly: true });
  const json = Boolean(values.json);
  if (values.restore !== undefined) {
    const r = await restoreFileCopy(config, values.restore, intFlag(values.nth, 'nth', 1, 1000) ?? 1);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(r.changed ? `restored ${r.file} as it was before ${r.from}; what it held is kept as the newest copy\n` : `${r.file} already holds the copy of ${r.from}\n`);
    return 0;
  }
  if (values['seal-legacy']) {
    const { sealed, left } = await sealLegacyCopies(config);
    if (json) process.stdout.write(`${JSON.stringify({ sealed, left })}\n`);
    else {
      process.stdout.write(`sealed ${sealed} plaintext cop${sealed === 1 ? 'y' : 'ies'} and deleted the plaintext\n`);
      if (left.length) process.stdout.write(`${left.length} could not be matched to a file in rotor.yaml; they hold retired values in plaintext — delete them:\n  ${left.join('\n  ')}\n`);
    }
    return exitCodeForSealLegacy({ left });
  }
  const { files, legacyPlaintext } = listFileCopies(config);
  if (json) {
    const out = files.map((f) => ({ file: f.file, copies: f.copies.map((c, i) => ({ nth: i + 1, at: c.at.toISOString(), bytes: c.bytes })) }));
    process.stdout.write(`${JSON.stringify({ files: out, legacyPlaintext })}\n`);
  } else {
    if (!files.length) process.stdout.write('no copies of delivered files\n');
    for (const f of files) {
      process.stdout.write(`${f.file}\n`);
      f.copies.forEach((c, i) => process.stdout.write(`  ${String(i + 1).padStart(3)}  ${c.at.toISOString()}  ${c.bytes} bytes sealed\n`));
    }
  }
  if (legacyPlaintext) {
    process.stderr.write(`rotor: warning: ${legacyPlaintext} plaintext cop${legacyPlaintext === 1 ? 'y' : 'ies'} from an older Rotor under .rotor/backups hold retired values\n`
      + '  → run `rotor backup files --seal-legacy` to seal them and delete the plaintext\n');
  }
  return 0;
}
