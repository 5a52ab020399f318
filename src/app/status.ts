/**
 * Every secret's state, from metadata only (no master key): current version, age, due date,
 * stage counts, last result, and the rotation locks. Behind `rotor status` and `GET /v1/secrets`.
 */
import { formatDuration } from '../config/duration.js';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import type { SecretSummary } from '../state/types.js';
import { dueAt } from './due.js';
import { openState } from './engine.js';

export async function secretsStatus(config: RotorConfig, now: number) {
  const state = await openState(config);
  const summaries = await state.summaries();
  const locks = await state.locks();
  await state.close();
  // A rotation recorded as under way whose secret no live process holds was interrupted (Ctrl-C, kill, a crash).
  const heldBy = new Set(locks.filter((l) => !l.stale).map((l) => l.secretId));
  const secrets = config.secrets.map((s) => secretRow(s, summaries.get(s.id), now, heldBy));
  const lockRows = locks.map((l) => ({
    secretId: l.secretId, pid: l.pid, host: l.host, acquiredAt: l.acquiredAt, expiresAt: l.expiresAt, expired: l.expiresAt <= now, stale: Boolean(l.stale),
  }));
  return { secrets, locks: lockRows };
}

/** One secret's line of `rotor status` and of `GET /v1/secrets`. */
export function secretRow(s: SecretConfig, sum: SecretSummary | undefined, now: number, heldBy: Set<string> | undefined) {
  const due = dueAt(s, sum);
  const last = sum?.lastRotation;
  return {
    id: s.id, type: s.type, priority: s.priority,
    currentVersion: sum?.currentVersion ?? null,
    currentSince: sum?.currentSince ?? null,
    interval: s.intervalMs === undefined ? null : formatDuration(s.intervalMs),
    schedule: s.schedule ?? null,
    dueAt: due ?? null,
    overdue: due !== undefined && due <= now,
    expiresAt: sum?.currentExpiresAt ?? null,
    stages: sum?.stageCounts ?? {},
    lastRotation: last ? { id: last.id, status: last.status, startedAt: last.startedAt, finishedAt: last.finishedAt, error: last.error } : null,
    // Without lock knowledge (the daemon's view) a rotation under way is not called interrupted.
    interrupted: Boolean(heldBy && last && (last.status === 'running' || last.status === 'rolling-back') && !heldBy.has(s.id)),
  };
}

export type SecretRow = ReturnType<typeof secretRow>;

export type SecretsStatus = Awaited<ReturnType<typeof secretsStatus>>;
