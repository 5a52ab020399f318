/**
 * `rotor adopt <id> [--from-store] [--reason R]`: the value in use today becomes v1 current,
 * proven at the target (app/adopt.ts). It comes on stdin, or with `--from-store` from the
 * secret's own store (an aws-secrets-manager store: the secret's AWSCURRENT). A flag rather
 * than "stdin was empty": an empty pipe is usually a variable that was not set, and should
 * fail, not quietly adopt something else.
 */
import { adoptSecret } from '../../app/adopt.js';
import { selectSecrets } from '../../app/engine.js';
import type { AdoptSource } from '../../engine/adopt.js';
import { UsageError } from '../../errors.js';
import { parse, textFlag } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { readValueFromStdin } from '../stdin.js';

const USAGE = 'rotor adopt <id> [--from-store] [--reason R] [--json]   (the value in use today on stdin: a password alone, or the whole value as `rotor get` prints it; --from-store: the value the secret\'s store serves, Secrets Manager\'s AWSCURRENT)';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { reason: { type: 'string' }, 'from-store': { type: 'boolean' } }, USAGE);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw new UsageError('name one secret to adopt', `usage: ${USAGE}`);
  const reason = textFlag(parsed.values.reason, 'reason');
  const config = openConfig(parsed.values.config);
  const [secret] = selectSecrets(config, parsed.positionals);
  const source: AdoptSource = parsed.values['from-store']
    ? { kind: 'store' }
    : { kind: 'stdin', text: await readValueFromStdin(`rotor adopt ${secret!.id}`, `or, when its store already serves it (Secrets Manager's AWSCURRENT): \`rotor adopt ${secret!.id} --from-store\``) };
  const result = await interruptible((signal) => adoptSecret(config, secret!, source, reason, { signal }));
  if (parsed.values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`adopted ${result.secretId}: ${result.detail}\n  the first rotation can roll back to it, and its retire revokes it\n`);
  return 0;
}
