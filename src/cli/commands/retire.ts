/** `rotor retire [--due] [id…] [--force]`: revoke previous values whose grace has ended (app/retire.ts). */
import { exitCodeFor } from '../../app/outcomes.js';
import { retireSecrets } from '../../app/retire.js';
import { parse } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { printOutcomes, Progress } from '../output.js';

const USAGE = 'rotor retire [--due] [id…] [--force] [--json]   (--force: retire before grace ends, and past what would hold it, such as data still under an old key)';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { due: { type: 'boolean' }, force: { type: 'boolean' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const config = openConfig(values.config);
  const { outcomes, waiting, elapsedMs } = await interruptible((signal) => retireSecrets({
    config, ids: positionals, force: Boolean(values.force), progress: (total) => new Progress(total, 'retiring'), signal,
  }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ outcomes, waiting })}\n`);
  } else {
    for (const w of waiting) {
      process.stdout.write(`waiting     ${w.secretId}  grace ends ${new Date(w.retireAfter ?? 0).toISOString()} (--force to retire now)\n`);
    }
    if (!outcomes.length) process.stdout.write('nothing to retire\n');
    else printOutcomes(outcomes, elapsedMs);
  }
  return exitCodeFor(outcomes);
}
