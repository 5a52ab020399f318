/**
 * `rotor resume`: finds rotations a crash left open and finishes or rolls back each. A
 * rotation whose process is still alive is left alone; a rotation waiting out its grace
 * is not interrupted and stays as it is.
 */
import type { SecretConfig } from '../config/schema.js';
import type { LockRow, RotationRow } from '../state/types.js';
import type { EngineDeps, RotationOutcome } from './context.js';
import { runBatch } from './batch.js';
import type { Runner } from './runner.js';

export interface RecoveryReport {
  outcomes: RotationOutcome[];
  /** Open rotations of secrets no longer in rotor.yaml: they need a person. */
  orphans: RotationRow[];
  /** Locks whose holder died (or stopped renewing), removed whether or not a rotation was open. */
  cleared: LockRow[];
}

export async function recover(deps: EngineDeps, runner: Runner, concurrency: number): Promise<RecoveryReport> {
  // A batch killed before its rotations were recorded leaves locks and nothing to resume:
  // without this, `rotate` would say BUSY and point at `resume` forever.
  const cleared = await deps.state.clearStaleLocks(deps.owner);
  const open = (await deps.state.openRotations()).filter((r) => r.status !== 'grace' || r.step === 'retire');
  const byId = new Map(deps.config.secrets.map((s) => [s.id, s]));
  const orphans = open.filter((r) => !byId.has(r.secretId));
  const rotationOf = new Map(open.map((r) => [r.secretId, r]));
  const secrets: SecretConfig[] = [...rotationOf.keys()].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  const outcomes = await runBatch(deps, secrets, { concurrency }, (secret, propagation) =>
    runner.resume(secret, rotationOf.get(secret.id)!, propagation),
  );
  // Locks of the rotations resumed here were taken over, not stranded: report only the others.
  return { outcomes, orphans, cleared: cleared.filter((l) => !rotationOf.has(l.secretId)) };
}
