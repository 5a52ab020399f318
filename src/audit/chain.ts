/**
 * The audit log's hash chain. Each event's hash covers its own fields, its sequence number
 * and the previous event's hash, so changing, removing or reordering any event breaks the
 * chain at that event — which `rotor audit verify` names.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, AuditInput } from '../state/types.js';

export const GENESIS = '0'.repeat(64);

export function hashEvent(seq: number, prevHash: string, e: AuditInput): string {
  const fields = [seq, prevHash, e.at, e.actor, e.action, e.secretId, e.version, e.rotationId, e.outcome, e.reason, e.incident, e.detail];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

export type ChainCheck =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; seq: number; problem: 'changed' | 'removed-or-reordered' };

export function verifyChain(events: Iterable<AuditEvent>): ChainCheck {
  let prev = GENESIS;
  let expectedSeq = 1;
  let count = 0;
  for (const e of events) {
    count++;
    if (e.seq !== expectedSeq || e.prevHash !== prev) return { ok: false, events: count, seq: e.seq, problem: 'removed-or-reordered' };
    if (hashEvent(e.seq, e.prevHash, e) !== e.hash) return { ok: false, events: count, seq: e.seq, problem: 'changed' };
    prev = e.hash;
    expectedSeq++;
  }
  return { ok: true, events: count, head: prev };
}
