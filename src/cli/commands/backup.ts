/**
 * `rotor backup create --out FILE` / `rotor backup restore FILE` / `rotor backup verify FILE`:
 * every stored version of every secret in one file encrypted under a passphrase
 * (ROTOR_BACKUP_PASSPHRASE or --passphrase-file) or a 32-byte key file (--key-file) —
 * never the master key, and never a secret on the command line. What they do is
 * app/backup.ts's.
 *
 * `rotor backup files …` is about another kind of copy — of the files deliveries replaced —
 * and lives in backup-files.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createBackup, restoreBackup, verifyBackup, type BackupSecret } from '../../app/backup.js';
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';
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
    const r = await createBackup(config, resolve(values.out), secret);
    report(values.json, r, `wrote ${r.file}: ${r.secrets} secrets, ${r.versions} versions, encrypted\n`);
    return 0;
  }
  if (action === 'verify' && positionals.length === 2) {
    const r = await verifyBackup(resolve(file!), secret);
    report(values.json, r, `${r.file}: intact, made ${r.createdAt}: ${r.secrets} secrets, ${r.versions} versions\n`);
    return 0;
  }
  if (action === 'restore' && positionals.length === 2) {
    const r = await restoreBackup(config, resolve(file!), secret);
    report(values.json, r,
      `restored ${r.restoredVersions} versions of ${r.secrets} secrets from ${r.file}${r.alreadyPresent ? `; ${r.alreadyPresent} versions were already here and match` : ''}\n` +
      (r.openRotations ? `${r.openRotations} rotation${r.openRotations === 1 ? ' was' : 's were'} open in the backup: run \`rotor resume\`, then \`rotor retire\` when grace ends\n` : ''));
    return 0;
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
