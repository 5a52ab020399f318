/**
 * `rotor set <id> [--no-grace] [--reason R] [--incident I]`: a value issued elsewhere (stdin)
 * becomes the new current — verified, stored, delivered; the previous stays during grace.
 */
import { selectSecrets } from '../../app/engine.js';
import { exitCodeFor } from '../../app/outcomes.js';
import { rotateSecrets } from '../../app/rotate.js';
import { UsageError } from '../../errors.js';
import { parse, textFlag } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { printOutcomes, Progress } from '../output.js';
import { readValueFromStdin } from '../stdin.js';

const USAGE = 'rotor set <id> [--no-grace] [--reason R] [--incident I] [--json]   (the new value on stdin)';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { 'no-grace': { type: 'boolean' }, reason: { type: 'string' }, incident: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('name one secret to set', `usage: ${USAGE}`);
  const reason = textFlag(values.reason, 'reason');
  const incident = textFlag(values.incident, 'incident');
  const config = openConfig(values.config);
  const secrets = selectSecrets(config, positionals);
  const input = await readValueFromStdin(`rotor set ${secrets[0]!.id}`);
  const { outcomes, elapsedMs } = await interruptible((signal) => rotateSecrets({
    config, select: { secrets }, trigger: 'manual', reason, incident, noGrace: Boolean(values['no-grace']), concurrency: 1, input,
    progress: (total) => new Progress(total, 'rotating'), signal,
  }));
  if (values.json) process.stdout.write(`${JSON.stringify({ outcomes, elapsedMs })}\n`);
  else printOutcomes(outcomes, elapsedMs);
  return exitCodeFor(outcomes);
}
