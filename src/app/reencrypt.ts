/**
 * Re-encryption: moves the data a `keyring` secret protects to its current primary key,
 * online and resumably (rotators/keyring/reencrypt.ts), over its own small pool of
 * connections to the target, and audits the result.
 */
import { join } from 'node:path';
import pg from 'pg';
import { createKeyring, type KeyringValue } from '../client/keyring.js';
import type { RotorConfig } from '../config/schema.js';
import { readVersion, valueAccess } from '../engine/values.js';
import { NotFoundError, UsageError } from '../errors.js';
import { reencrypt, type ReencryptProgress, type ReencryptResult } from '../rotators/keyring/reencrypt.js';
import type { KeyringSpec } from '../rotators/keyring/schema.js';
import type { Outcome } from './outcomes.js';
import { selectSecrets, withEngine } from './engine.js';

export interface ReencryptRequest {
  config: RotorConfig;
  id: string;
  batchSize: number | undefined;
  /** Called as rows move, with the primary key id they move to. */
  onProgress?: (p: ReencryptProgress, primaryId: string) => void;
}

export interface ReencryptReport {
  secretId: string;
  primary: string;
  result: ReencryptResult;
  rowsPerSecond: number;
  /**
   * ok: every row under the primary; rolled-back (exit 1): rows still written under an old
   * key, nothing broken, run again; needs-person (exit 3): rows no key in the ring reads.
   */
  outcome: 'ok' | Outcome;
}

/** Checks the secret is a keyring with data to move, before anything is opened. */
function keyringOf(config: RotorConfig, id: string) {
  const [secret] = selectSecrets(config, [id]);
  const spec = secret!.spec as KeyringSpec;
  if (secret!.type !== 'keyring') throw new UsageError(`${secret!.id} is a ${secret!.type}, not a keyring`);
  if (!spec.data || !secret!.target) throw new UsageError(`${secret!.id} has no \`data\` and \`target\``, 'add data: { table, idColumn, column } and the postgres target that holds it');
  return { secret: secret!, data: spec.data, target: config.targets[secret!.target]! };
}

export async function reencryptKeyring(req: ReencryptRequest): Promise<ReencryptReport> {
  const { config } = req;
  const { secret, data, target } = keyringOf(config, req.id);
  return withEngine(config, async (engine) => {
    const pool = new pg.Pool({ connectionString: target.url, max: 8, application_name: 'rotor-reencrypt' });
    pool.on('error', () => {});
    try {
      const current = (await engine.state.liveVersions(secret.id)).find((v) => v.stage === 'current');
      if (!current) throw new NotFoundError(`${secret.id} has no current version`, `run \`rotor rotate ${secret.id}\` first`);
      const value = (await readVersion(valueAccess(engine.deps, secret), current)) as unknown as KeyringValue;
      const ring = createKeyring(value);
      const result = await reencrypt({
        pool, data, ring, batchSize: req.batchSize,
        checkpointFile: join(config.dir, '.rotor', 'reencrypt', `${encodeURIComponent(secret.id)}.json`),
        onProgress: (p) => req.onProgress?.(p, ring.primaryId),
      });
      await engine.state.commit([{
        kind: 'audit',
        event: {
          at: Date.now(), actor: engine.deps.actor, action: 'keyring.reencrypted', secretId: secret.id, version: current.version, rotationId: null,
          outcome: result.remaining || result.unreadable.length ? 'failed' : 'ok', reason: null, incident: null,
          detail: `${result.reencrypted} rows to key ${ring.primaryId} in ${data.table}; ${result.remaining} left; ${result.unreadable.length} unreadable`,
        },
      }]);
      return {
        secretId: secret.id, primary: ring.primaryId, result,
        rowsPerSecond: result.ms > 0 ? Math.round((result.reencrypted / result.ms) * 1000) : 0,
        outcome: result.unreadable.length ? 'needs-person' : result.remaining ? 'rolled-back' : 'ok',
      };
    } finally {
      await pool.end().catch(() => {});
    }
  });
}
