/** `rotor rollback <id> [--reason R]`: the previous value becomes current again while it is still valid. */
import { runBatch } from '../../engine/batch.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { parse, textFlag } from '../args.js';
import { openConfig, withRunner, selectSecrets } from '../open.js';
import { describeOutcome } from '../output.js';

const USAGE = 'rotor rollback <id> [--reason R] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { reason: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new UsageError('name one secret to roll back', `usage: ${USAGE}`);
  const reason = textFlag(parsed.values.reason, 'reason');
  const config = openConfig(parsed.values.config);
  const [secret] = selectSecrets(config, parsed.positionals);
  return withRunner(config, undefined, async (runner, engine) => {
    const rotation = (await engine.state.openRotations(secret!.id)).filter((r) => r.status === 'grace').pop();
    if (!rotation || rotation.fromVersion === null) {
      throw new NotFoundError(
        `${secret!.id} has no previous value that is still valid`,
        'rollback works only during grace; rotate again instead (`rotor rotate`)',
      );
    }
    const [outcome] = await runBatch(engine.deps, [secret!], { concurrency: 1 }, (s, propagation) => runner.rollbackToPrevious(s, rotation, reason, propagation));
    if (parsed.values.json) process.stdout.write(`${JSON.stringify({ outcome })}\n`);
    else if (outcome!.status === 'rolled-back') process.stdout.write(`rolled back ${secret!.id}: v${rotation.fromVersion} is current again, v${rotation.toVersion} withdrawn\n`);
    else process.stdout.write(`${describeOutcome(outcome!)}\n`);
    return outcome!.status === 'rolled-back' ? 0 : outcome!.status === 'busy' ? 2 : 3;
  });
}
