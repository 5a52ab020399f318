/**
 * `rotor init`: a starter rotor.yaml, a local vault and a state database, and a new master
 * key in .rotor/master.key (mode 0600) unless the environment already provides one
 * (app/init.ts). Refuses to replace anything that exists.
 */
import { initProject } from '../../app/init.js';
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { configPath, printConfigWarnings } from '../open.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { kms: { type: 'string' } }, 'rotor init [--config PATH] [--kms KEY]\n  --kms KEY  keep the master key wrapped by this AWS KMS key (id, ARN or alias/…): no plaintext key on disk');
  if (!parsed) return 0;
  const kms = parsed.values.kms;
  if (kms !== undefined && !/^[A-Za-z0-9:/_+=.@-]{1,2048}$/.test(kms)) throw new UsageError('--kms must be a KMS key id, ARN or alias/NAME');
  const r = await initProject(configPath(parsed.values.config), printConfigWarnings, { kms });
  process.stdout.write(
    `${r.wroteConfig ? 'wrote' : 'kept'} ${r.file}\n` +
      `master key: ${r.keySource}${r.keySource.endsWith('master.key') ? ' (mode 0600 — back it up: without it the vault cannot be read)' : ''}\n` +
      (r.wrapped ? `wrapped by KMS: ${r.wrapped}; back up the ciphertext file, and keep the KMS key from deletion\n` : '') +
      `vault: ${r.vaults.join(', ')}\nstate: ${r.state}\n` +
      `next: rotor plan --all, then rotor rotate --all\n`,
  );
  return 0;
}
