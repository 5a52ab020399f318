/**
 * An emergency: rotates everything in scope, highest priority first, with no grace, and
 * writes an incident report to .rotor/incidents/<incident>-<time>.json for the post-mortem
 * and the auditors. Behind `rotor emergency` and `POST /v1/emergency`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIORITY_RANK, type RotorConfig } from '../config/schema.js';
import type { RotationOutcome } from '../engine/context.js';
import { UsageError } from '../errors.js';
import { actorName } from './engine.js';
import { exitCodeFor } from './outcomes.js';
import { rotateSecrets, type ProgressFactory } from './rotate.js';

export type EmergencyScope = 'critical' | 'high' | 'all';

export interface EmergencyRequest {
  config: RotorConfig;
  scope: EmergencyScope;
  incident: string;
  reason: string;
  concurrency: number | undefined;
  progress?: ProgressFactory;
  signal?: AbortSignal;
  actor?: string;
}

export interface IncidentReport {
  incident: string;
  reason: string;
  scope: EmergencyScope;
  startedAt: string;
  finishedAt: string;
  elapsedMs: number;
  exitCode: number;
  actor: string;
  rotated: string[];
  needsAttention: RotationOutcome[];
  outcomes: RotationOutcome[];
}

/** The incident id names the report file: letters, digits, . _ and - only. */
export function checkIncidentId(incident: string): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(incident)) throw new UsageError('--incident must be an id of letters, digits, . _ and - (it names the report file)');
}

export async function runEmergency(req: EmergencyRequest): Promise<{ report: IncidentReport; reportFile: string }> {
  checkIncidentId(req.incident);
  const { config, scope, incident, reason } = req;
  const maxRank = scope === 'all' ? Infinity : PRIORITY_RANK[scope];
  const inScope = config.secrets.filter((s) => PRIORITY_RANK[s.priority] <= maxRank);

  const startedAt = new Date();
  const { outcomes, elapsedMs } = await rotateSecrets({
    config, select: { secrets: inScope }, trigger: 'emergency', reason, incident, noGrace: true, concurrency: req.concurrency,
    progress: req.progress, signal: req.signal, actor: req.actor,
  });
  const report: IncidentReport = {
    incident, reason, scope, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), elapsedMs, exitCode: exitCodeFor(outcomes),
    actor: req.actor ?? actorName(),
    rotated: outcomes.filter((o) => o.status === 'succeeded').map((o) => o.secretId).sort(),
    needsAttention: outcomes.filter((o) => o.status !== 'succeeded'),
    outcomes,
  };
  const dir = join(config.dir, '.rotor', 'incidents');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const reportFile = join(dir, `${incident}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  return { report, reportFile };
}
