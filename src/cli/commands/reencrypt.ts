/**
 * `rotor reencrypt <id> [--batch N] [--json]`: moves the data a `keyring` secret protects
 * to its current primary key, online and resumably (app/reencrypt.ts).
 */
import { exitCodeOf } from '../../app/outcomes.js';
import { reencryptKeyring } from '../../app/reencrypt.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse } from '../args.js';
import { openConfig } from '../open.js';

const USAGE = 'rotor reencrypt <keyring id> [--batch N] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { batch: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('name one keyring secret', `usage: ${USAGE}`);
  const batchSize = intFlag(values.batch, 'batch', 100, 100_000);
  const config = openConfig(values.config);
  const id = positionals[0]!;
  const tty = Boolean(process.stderr.isTTY) && !values.json;
  let lastDraw = 0;
  const { secretId, primary, result, rowsPerSecond: rate, outcome } = await reencryptKeyring({
    config, id, batchSize,
    onProgress: (p, primaryId) => {
      if (!tty || Date.now() - lastDraw < 100) return;
      lastDraw = Date.now();
      const pct = p.total ? Math.min(100, Math.floor((p.reencrypted / p.total) * 100)) : 100;
      process.stderr.write(`\r\x1b[Kreencrypting ${id} to key ${primaryId}: ${p.reencrypted.toLocaleString('en')}/${p.total.toLocaleString('en')} rows (${pct}%), pass ${p.pass}`);
    },
  });
  if (tty) process.stderr.write('\n');
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ secretId, primary, ...result, rowsPerSecond: rate })}\n`);
  } else {
    process.stdout.write(
      `${secretId}: ${result.reencrypted.toLocaleString('en')} rows re-encrypted to key ${primary} in ${(result.ms / 1000).toFixed(1)}s (${rate.toLocaleString('en')} rows/s)` +
        `${result.resumedFrom !== null ? `, resumed from the checkpoint (ranges at ids ${result.resumedFrom})` : ''}; ${result.alreadyCurrent.toLocaleString('en')} already current, ` +
        `${result.changedConcurrently} changed by the application meanwhile (swept again), ${result.remaining} left\n`,
    );
    for (const u of result.unreadable.slice(0, 10)) process.stdout.write(`  unreadable: id ${u.id}: ${u.error}\n`);
    if (result.remaining) process.stdout.write(`  → ${result.remaining} rows are still written under an old key: deliver the new keyring to every writer, then run this again\n`);
  }
  return outcome === 'ok' ? 0 : exitCodeOf(outcome);
}
