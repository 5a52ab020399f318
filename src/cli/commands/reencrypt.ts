/**
 * `rotor reencrypt <id> [--batch N] [--json]`: moves the data a `keyring` secret protects
 * to its current primary key, online and resumably (rotators/keyring/reencrypt.ts).
 */
import { join } from 'node:path';
import pg from 'pg';
import { createKeyring, type KeyringValue } from '../../client/keyring.js';
import { readVersion, valueAccess } from '../../engine/values.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { reencrypt } from '../../rotators/keyring/reencrypt.js';
import type { KeyringSpec } from '../../rotators/keyring/schema.js';
import { intFlag, parse } from '../args.js';
import { openConfig, openEngine, selectSecrets } from '../open.js';

const USAGE = 'rotor reencrypt <keyring id> [--batch N] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { batch: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('name one keyring secret', `usage: ${USAGE}`);
  const batchSize = intFlag(values.batch, 'batch', 100, 100_000);
  const config = openConfig(values.config);
  const [secret] = selectSecrets(config, positionals);
  const spec = secret!.spec as KeyringSpec;
  if (secret!.type !== 'keyring') throw new UsageError(`${secret!.id} is a ${secret!.type}, not a keyring`);
  if (!spec.data || !secret!.target) throw new UsageError(`${secret!.id} has no \`data\` and \`target\``, 'add data: { table, idColumn, column } and the postgres target that holds it');
  const target = config.targets[secret!.target]!;

  const engine = await openEngine(config);
  const pool = new pg.Pool({ connectionString: target.url, max: 8, application_name: 'rotor-reencrypt' });
  pool.on('error', () => {});
  try {
    const current = (await engine.state.liveVersions(secret!.id)).find((v) => v.stage === 'current');
    if (!current) throw new NotFoundError(`${secret!.id} has no current version`, `run \`rotor rotate ${secret!.id}\` first`);
    const value = (await readVersion(valueAccess(engine.deps, secret!), current)) as unknown as KeyringValue;
    const ring = createKeyring(value);
    const tty = Boolean(process.stderr.isTTY) && !values.json;
    let lastDraw = 0;
    const result = await reencrypt({
      pool, data: spec.data, ring, batchSize,
      checkpointFile: join(config.dir, '.rotor', 'reencrypt', `${encodeURIComponent(secret!.id)}.json`),
      onProgress: (p) => {
        if (!tty || Date.now() - lastDraw < 100) return;
        lastDraw = Date.now();
        const pct = p.total ? Math.min(100, Math.floor((p.reencrypted / p.total) * 100)) : 100;
        process.stderr.write(`\r\x1b[Kreencrypting ${secret!.id} to key ${ring.primaryId}: ${p.reencrypted.toLocaleString('en')}/${p.total.toLocaleString('en')} rows (${pct}%), pass ${p.pass}`);
      },
    });
    if (tty) process.stderr.write('\n');
    await engine.state.commit([{
      kind: 'audit',
      event: {
        at: Date.now(), actor: engine.deps.actor, action: 'keyring.reencrypted', secretId: secret!.id, version: current.version, rotationId: null,
        outcome: result.remaining || result.unreadable.length ? 'failed' : 'ok', reason: null, incident: null,
        detail: `${result.reencrypted} rows to key ${ring.primaryId} in ${spec.data.table}; ${result.remaining} left; ${result.unreadable.length} unreadable`,
      },
    }]);
    const rate = result.ms > 0 ? Math.round((result.reencrypted / result.ms) * 1000) : 0;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ secretId: secret!.id, primary: ring.primaryId, ...result, rowsPerSecond: rate })}\n`);
    } else {
      process.stdout.write(
        `${secret!.id}: ${result.reencrypted.toLocaleString('en')} rows re-encrypted to key ${ring.primaryId} in ${(result.ms / 1000).toFixed(1)}s (${rate.toLocaleString('en')} rows/s)` +
          `${result.resumedFrom !== null ? `, resumed from the checkpoint (ranges at ids ${result.resumedFrom})` : ''}; ${result.alreadyCurrent.toLocaleString('en')} already current, ` +
          `${result.changedConcurrently} changed by the application meanwhile (swept again), ${result.remaining} left\n`,
      );
      for (const u of result.unreadable.slice(0, 10)) process.stdout.write(`  unreadable: id ${u.id}: ${u.error}\n`);
      if (result.remaining) process.stdout.write(`  → ${result.remaining} rows are still written under an old key: deliver the new keyring to every writer, then run this again\n`);
    }
    return result.unreadable.length ? 3 : result.remaining ? 1 : 0;
  } finally {
    await pool.end().catch(() => {});
    await engine.close();
  }
}
