/**
 * Rotating secrets: the use-case behind `rotor rotate`, `rotor set`, `rotor emergency` and
 * `POST /v1/secrets/{id}/rotate`. Opens the engine, selects the secrets against the state,
 * runs them as one batch (engine/batch.ts) and closes everything.
 *
 * @example
 * const { outcomes } = await rotateSecrets({ config, select: { ids: ['db/app'] }, trigger: 'manual',
 *   reason: null, incident: null, noGrace: false, concurrency: undefined });
 */
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import { runBatch } from '../engine/batch.js';
import type { EngineEvent, RotationOutcome } from '../engine/context.js';
import type { StateStore, Trigger } from '../state/types.js';
import { dueSecrets } from './due.js';
import { selectSecrets, withRunner } from './engine.js';

/** Which secrets: every configured one, the due ones, named ids, or secrets already selected. */
export type Selection = { all: true } | { due: true } | { ids: string[] } | { secrets: SecretConfig[] };

/** Watches a batch: made once the secrets are selected, told every engine event, ended when the batch is. */
export interface ProgressListener {
  onEvent(e: EngineEvent): void;
  end(): void;
}

export type ProgressFactory = (total: number) => ProgressListener;

export interface RotateRequest {
  config: RotorConfig;
  select: Selection;
  trigger: Trigger;
  reason: string | null;
  incident: string | null;
  noGrace: boolean;
  /** At most this many at once; rotor.yaml's `concurrency` by default. */
  concurrency: number | undefined;
  /** `rotor set`: the new value as given on stdin. */
  input?: string;
  progress?: ProgressFactory;
  /** Aborted: steps under way finish, nothing new starts. */
  signal?: AbortSignal;
  /** Who acts, for the audit log (app/engine.ts RunOptions.actor). */
  actor?: string;
}

export interface BatchResult {
  outcomes: RotationOutcome[];
  elapsedMs: number;
}

export async function selected(config: RotorConfig, select: Selection, state: StateStore): Promise<SecretConfig[]> {
  if ('secrets' in select) return select.secrets;
  if ('ids' in select) return selectSecrets(config, select.ids);
  if ('due' in select) return dueSecrets(config.secrets, await state.summaries(), Date.now());
  return config.secrets;
}

export async function rotateSecrets(req: RotateRequest): Promise<BatchResult> {
  let progress: ProgressListener | undefined;
  const started = Date.now();
  return withRunner(req.config, { onEvent: (e) => progress?.onEvent(e), signal: req.signal, actor: req.actor }, async (runner, engine) => {
    const secrets = await selected(req.config, req.select, engine.state);
    progress = req.progress?.(secrets.length);
    const outcomes = await runBatch(engine.deps, secrets, { concurrency: req.concurrency ?? req.config.concurrency }, (s, propagation) =>
      runner.rotate(s, { trigger: req.trigger, reason: req.reason, incident: req.incident, noGrace: req.noGrace, input: req.input }, propagation),
    );
    progress?.end();
    return { outcomes, elapsedMs: Date.now() - started };
  });
}
