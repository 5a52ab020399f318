/**
 * Resuming: checks the whole state after a crash, clears stale locks, and finishes or rolls
 * back what a crash left open (engine/recovery.ts). Behind `rotor resume` and the daemon's start.
 */
import type { RotorConfig } from '../config/schema.js';
import { recover, type RecoveryReport } from '../engine/recovery.js';
import { withRunner } from './engine.js';

export async function resumeOpenRotations(config: RotorConfig, opts: { signal?: AbortSignal; actor?: string } = {}): Promise<RecoveryReport & { elapsedMs: number }> {
  const started = Date.now();
  return withRunner(config, { signal: opts.signal, actor: opts.actor }, async (runner, engine) => {
    // After a crash, check the whole database structure before acting on it.
    await engine.state.integrityCheck();
    const report = await recover(engine.deps, runner, config.concurrency);
    return { ...report, elapsedMs: Date.now() - started };
  });
}
