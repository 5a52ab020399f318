/**
 * `rotor get <id> [--stage S] [--version N] [--field F]`: prints a value for scripts. The
 * only command that prints secret values, and the read is audited (app/get.ts).
 */
import { readSecretValue } from '../../app/get.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse } from '../args.js';
import { openConfig } from '../open.js';

const USAGE = 'rotor get <id> [--stage current|previous|pending] [--version N] [--field F]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { stage: { type: 'string' }, version: { type: 'string' }, field: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('name one secret', `usage: ${USAGE}`);
  const stage = values.stage ?? 'current';
  if (!['current', 'previous', 'pending'].includes(stage)) throw new UsageError('--stage must be current, previous or pending');
  const version = intFlag(values.version, 'version', 1, Number.MAX_SAFE_INTEGER);
  if (version !== undefined && values.stage) throw new UsageError('give --stage or --version, not both');
  const config = openConfig(values.config, { readOnly: true });
  const out = await readSecretValue({ config, id: positionals[0]!, stage, version, field: values.field });
  process.stdout.write(`${out}\n`);
  return 0;
}
