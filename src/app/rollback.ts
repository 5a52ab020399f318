/**
 * Rolling back on request: the previous value becomes current again while it is still valid
 * (in grace), and the newer one is withdrawn. Behind `rotor rollback` and
 * `POST /v1/secrets/{id}/rollback`.
 */
import type { RotorConfig } from '../config/schema.js';
import { runBatch } from '../engine/batch.js';
import type { RotationOutcome } from '../engine/context.js';
import { NotFoundError } from '../errors.js';
import { selectSecrets, withRunner } from './engine.js';

export interface RollbackResult {
  outcome: RotationOutcome;
  /** The version current again, and the version withdrawn. */
  fromVersion: number;
  toVersion: number;
}

export async function rollbackSecret(
  config: RotorConfig, id: string, reason: string | null, opts: { signal?: AbortSignal; actor?: string } = {},
): Promise<RollbackResult> {
  const [secret] = selectSecrets(config, [id]);
  return withRunner(config, { signal: opts.signal, actor: opts.actor }, async (runner, engine) => {
    const rotation = (await engine.state.openRotations(secret!.id)).filter((r) => r.status === 'grace').pop();
    if (!rotation || rotation.fromVersion === null) {
      throw new NotFoundError(
        `${secret!.id} has no previous value that is still valid`,
        'rollback works only during grace; rotate again instead (`rotor rotate`)',
      );
    }
    const [outcome] = await runBatch(engine.deps, [secret!], { concurrency: 1 }, (s, propagation) => runner.rollbackToPrevious(s, rotation, reason, propagation));
    return { outcome: outcome!, fromVersion: rotation.fromVersion, toVersion: rotation.toVersion };
  });
}
