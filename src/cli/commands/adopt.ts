/** `rotor adopt <id> [--reason R]`: the value in use today (stdin) becomes v1 current, proven at the target (app/adopt.ts). */
import { adoptSecret } from '../../app/adopt.js';
import { selectSecrets } from '../../app/engine.js';
import { UsageError } from '../../errors.js';
import { parse, textFlag } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { readValueFromStdin } from '../stdin.js';

const USAGE = 'rotor adopt <id> [--reason R] [--json]   (the value in use today on stdin: a password alone, or the whole value as `rotor get` prints it)';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { reason: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new UsageError('name one secret to adopt', `usage: ${USAGE}`);
  const reason = textFlag(parsed.values.reason, 'reason');
  const config = openConfig(parsed.values.config);
  const [secret] = selectSecrets(config, parsed.positionals);
  const input = await readValueFromStdin(`rotor adopt ${secret!.id}`);
  const result = await interruptible((signal) => adoptSecret(config, secret!, input, reason, { signal }));
  if (parsed.values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`adopted ${result.secretId}: ${result.detail}\n  the first rotation can roll back to it, and its retire revokes it\n`);
  return 0;
}
