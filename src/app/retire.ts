/**
 * Retiring: revokes the previous values whose grace has ended (all of them with `force`),
 * and names the ones still waiting. Behind `rotor retire` and `POST /v1/secrets/{id}/retire`.
 */
import type { RotorConfig } from '../config/schema.js';
import { runBatch } from '../engine/batch.js';
import type { RotationRow } from '../state/types.js';
import { selectSecrets, withRunner } from './engine.js';
import type { BatchResult, ProgressFactory, ProgressListener } from './rotate.js';

export interface RetireRequest {
  config: RotorConfig;
  /** The secrets to consider; every configured one when empty. */
  ids: string[];
  /** Retire before grace ends, and past what would hold it (data still under an old key). */
  force: boolean;
  progress?: ProgressFactory;
  signal?: AbortSignal;
  /** Who acts, for the audit log (app/engine.ts RunOptions.actor). */
  actor?: string;
}

export interface RetireResult extends BatchResult {
  /** Secrets in grace that were not retired: their grace has not ended. */
  waiting: { secretId: string; retireAfter: number | null }[];
}

export async function retireSecrets(req: RetireRequest): Promise<RetireResult> {
  const { config } = req;
  const named = req.ids.length ? selectSecrets(config, req.ids) : config.secrets;
  let progress: ProgressListener | undefined;
  const started = Date.now();
  return withRunner(config, { onEvent: (e) => progress?.onEvent(e), signal: req.signal, actor: req.actor }, async (runner, engine) => {
    const now = Date.now();
    const inGrace = new Map<string, RotationRow>();
    for (const r of await engine.state.openRotations()) if (r.status === 'grace') inGrace.set(r.secretId, r);
    const selected = named.filter((s) => {
      const r = inGrace.get(s.id);
      return r !== undefined && (req.force || (r.retireAfter ?? Infinity) <= now);
    });
    const waiting = named.filter((s) => inGrace.has(s.id) && !selected.includes(s));
    progress = req.progress?.(selected.length);
    const outcomes = await runBatch(engine.deps, selected, { concurrency: config.concurrency }, (s) => runner.retire(s, inGrace.get(s.id)!, { force: req.force }));
    progress?.end();
    return {
      outcomes, elapsedMs: Date.now() - started,
      waiting: waiting.map((s) => ({ secretId: s.id, retireAfter: inGrace.get(s.id)!.retireAfter })),
    };
  });
}
