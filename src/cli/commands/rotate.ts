/** `rotor rotate <id…> | --all | --due [--no-grace] [--reason R] [--incident I] [--concurrency N]` */
import { exitCodeFor } from '../../app/outcomes.js';
import { rotateSecrets } from '../../app/rotate.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse, textFlag } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { printOutcomes, Progress } from '../output.js';

const USAGE = 'rotor rotate <id…> | --all | --due [--no-grace] [--reason R] [--incident I] [--concurrency N] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    {
      all: { type: 'boolean' }, due: { type: 'boolean' }, 'no-grace': { type: 'boolean' },
      reason: { type: 'string' }, incident: { type: 'string' }, concurrency: { type: 'string' },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const modes = [values.all, values.due, positionals.length > 0].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('name the secrets to rotate, or pass --all or --due (one of them)', `usage: ${USAGE}`);
  const reason = textFlag(values.reason, 'reason');
  const incident = textFlag(values.incident, 'incident');
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256);
  const config = openConfig(values.config);
  const { outcomes, elapsedMs } = await interruptible((signal) => rotateSecrets({
    config,
    select: values.all ? { all: true } : values.due ? { due: true } : { ids: positionals },
    trigger: 'manual', reason, incident, noGrace: Boolean(values['no-grace']), concurrency,
    progress: (total) => new Progress(total, 'rotating'), signal,
  }));
  if (values.json) process.stdout.write(`${JSON.stringify({ outcomes, elapsedMs })}\n`);
  else if (!outcomes.length) process.stdout.write('nothing to rotate\n');
  else printOutcomes(outcomes, elapsedMs);
  return exitCodeFor(outcomes);
}
