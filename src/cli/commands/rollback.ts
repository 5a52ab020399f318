/** `rotor rollback <id> [--reason R]`: the previous value becomes current again while it is still valid (app/rollback.ts). */
import { exitCodeForRollback } from '../../app/outcomes.js';
import { rollbackSecret } from '../../app/rollback.js';
import { UsageError } from '../../errors.js';
import { parse, textFlag } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { describeOutcome } from '../output.js';

const USAGE = 'rotor rollback <id> [--reason R] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { reason: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new UsageError('name one secret to roll back', `usage: ${USAGE}`);
  const reason = textFlag(parsed.values.reason, 'reason');
  const config = openConfig(parsed.values.config);
  const { outcome, fromVersion, toVersion } = await interruptible((signal) => rollbackSecret(config, parsed.positionals[0]!, reason, { signal }));
  if (parsed.values.json) process.stdout.write(`${JSON.stringify({ outcome })}\n`);
  else if (outcome.status === 'rolled-back') process.stdout.write(`rolled back ${outcome.secretId}: v${fromVersion} is current again, v${toVersion} withdrawn\n`);
  else process.stdout.write(`${describeOutcome(outcome)}\n`);
  return exitCodeForRollback(outcome);
}
