/**
 * `rotor init`: a starter rotor.yaml, a local vault and a state database, and a new master
 * key in .rotor/master.key (mode 0600) unless the environment already provides one
 * (app/init.ts). Refuses to replace anything that exists.
 */
import { initProject } from '../../app/init.js';
import { parse } from '../args.js';
import { configPath, printConfigWarnings } from '../open.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, 'rotor init [--config PATH]');
  if (!parsed) return 0;
  const r = await initProject(configPath(parsed.values.config), printConfigWarnings);
  process.stdout.write(
    `${r.wroteConfig ? 'wrote' : 'kept'} ${r.file}\n` +
      `master key: ${r.keySource}${r.keySource.endsWith('master.key') ? ' (mode 0600 — back it up: without it the vault cannot be read)' : ''}\n` +
      `vault: ${r.vaults.join(', ')}\nstate: ${r.state}\n` +
      `next: rotor plan --all, then rotor rotate --all\n`,
  );
  return 0;
}
