/** Adopting: the value in use today becomes v1 current, proven at the target first (engine/adopt.ts). */
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import type { AdoptResult, AdoptSource } from '../engine/adopt.js';
import { withRunner } from './engine.js';

export function adoptSecret(config: RotorConfig, secret: SecretConfig, source: AdoptSource, reason: string | null, opts: { signal?: AbortSignal } = {}): Promise<AdoptResult> {
  return withRunner(config, { signal: opts.signal }, (runner) => runner.adopt(secret, source, reason));
}
