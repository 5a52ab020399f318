/**
 * Rows read back from SQLite are validated before use: a damaged or hand-edited database
 * surfaces as a clear error, never as a wrong stage silently acted on.
 */
import { z } from 'zod';
import { ROLES, type AuditEvent, type LockRow, type RotationRow, type StepRow, type TokenRow, type VersionRow } from '../types.js';

const stage = z.enum(['pending', 'current', 'previous', 'retired', 'failed']);
const step = z.enum(['create', 'apply', 'verify', 'promote', 'propagate', 'retire']);
const phase = z.enum(['started', 'done', 'failed']);
const text = z.string().max(100_000);

const versionRow = z.object({
  secret_id: text, version: z.number().int().positive(), stage, created_at: z.number(), stage_changed_at: z.number(),
  rotation_id: text, fingerprint: text, expires_at: z.number().nullable(),
});

const rotationRow = z.object({
  id: text, secret_id: text, trigger: z.enum(['manual', 'schedule', 'emergency', 'api']), reason: text.nullable(),
  incident: text.nullable(), actor: text, status: z.enum(['running', 'grace', 'rolling-back', 'succeeded', 'rolled-back', 'failed']),
  from_version: z.number().int().nullable(), to_version: z.number().int(), grace_ms: z.number().int(), step: step.nullable(), phase: phase.nullable(),
  retire_after: z.number().nullable(), started_at: z.number(), finished_at: z.number().nullable(), error: text.nullable(),
});

const stepRow = z.object({ rotation_id: text, step: z.union([step, z.literal('rollback')]), phase, at: z.number(), detail: text.nullable() });

const lockRow = z.object({
  secret_id: text, rotation_id: text.nullable(), pid: z.number().int(), host: text, acquired_at: z.number(), owner_id: text, expires_at: z.number(),
});

const auditRow = z.object({
  seq: z.number().int(), at: z.number(), actor: text, action: text, secret_id: text.nullable(), version: z.number().int().nullable(),
  rotation_id: text.nullable(), outcome: z.enum(['ok', 'failed', 'info']), reason: text.nullable(), incident: text.nullable(),
  detail: text.nullable(), prev_hash: text, hash: text,
});

export function versionFromRow(row: unknown): VersionRow {
  const r = versionRow.parse(row);
  return {
    secretId: r.secret_id, version: r.version, stage: r.stage, createdAt: r.created_at, stageChangedAt: r.stage_changed_at,
    rotationId: r.rotation_id, fingerprint: r.fingerprint, expiresAt: r.expires_at,
  };
}

export function rotationFromRow(row: unknown): RotationRow {
  const r = rotationRow.parse(row);
  return {
    id: r.id, secretId: r.secret_id, trigger: r.trigger, reason: r.reason, incident: r.incident, actor: r.actor, status: r.status,
    fromVersion: r.from_version, toVersion: r.to_version, graceMs: r.grace_ms, step: r.step, phase: r.phase, retireAfter: r.retire_after,
    startedAt: r.started_at, finishedAt: r.finished_at, error: r.error,
  };
}

export function stepFromRow(row: unknown): StepRow {
  const r = stepRow.parse(row);
  return { rotationId: r.rotation_id, step: r.step, phase: r.phase, at: r.at, detail: r.detail };
}

export function lockFromRow(row: unknown): LockRow {
  const r = lockRow.parse(row);
  return {
    secretId: r.secret_id, rotationId: r.rotation_id, ownerId: r.owner_id, pid: r.pid, host: r.host, acquiredAt: r.acquired_at, expiresAt: r.expires_at,
  };
}

export function auditFromRow(row: unknown): AuditEvent {
  const r = auditRow.parse(row);
  return {
    seq: r.seq, at: r.at, actor: r.actor, action: r.action, secretId: r.secret_id, version: r.version, rotationId: r.rotation_id,
    outcome: r.outcome, reason: r.reason, incident: r.incident, detail: r.detail, prevHash: r.prev_hash, hash: r.hash,
  };
}

const tokenRow = z.object({
  id: text, name: text, role: z.enum(ROLES), hash: z.string().regex(/^[0-9a-f]{64}$/), created_at: z.number(), created_by: text, revoked_at: z.number().nullable(),
});

export function tokenFromRow(row: unknown): TokenRow {
  const r = tokenRow.parse(row);
  return { id: r.id, name: r.name, role: r.role, hash: r.hash, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at };
}
