/**
 * The audit log's chain. Each event's MAC covers its own fields, its sequence number and
 * the previous event's MAC, so changing, removing or reordering any event breaks the chain
 * at that event — which `rotor audit verify` names. The MAC is keyed from the master key:
 * someone who can write the state database but does not hold the key cannot delete an
 * event and recompute the chain behind it. Checkpoints (`rotor audit export --checkpoint`)
 * kept elsewhere pin the chain's head at a moment, so even a key holder cannot rewrite
 * what came before one unnoticed.
 *
 * Events written before Rotor keyed its chain keep their plain SHA-256 links; the first
 * keyed sequence number is recorded with a MAC of its own (`keyedFromMarker`).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent, AuditInput } from '../state/types.js';

export const GENESIS = '0'.repeat(64);

const fieldsOf = (seq: number, prevHash: string, e: AuditInput) =>
  JSON.stringify([seq, prevHash, e.at, e.actor, e.action, e.secretId, e.version, e.rotationId, e.outcome, e.reason, e.incident, e.detail]);

/** The unkeyed link of events written before the chain was keyed. */
export function legacyHash(seq: number, prevHash: string, e: AuditInput): string {
  return createHash('sha256').update(fieldsOf(seq, prevHash, e)).digest('hex');
}

export function macEvent(key: Buffer, seq: number, prevHash: string, e: AuditInput): string {
  return createHmac('sha256', key).update(fieldsOf(seq, prevHash, e)).digest('hex');
}

/** The stored form of "events from `seq` on are keyed", authenticated so it cannot be moved. */
export function keyedFromMarker(key: Buffer, seq: number): string {
  return `${seq}:${createHmac('sha256', key).update(`audit-keyed-from:${seq}`).digest('hex')}`;
}

/** The sequence number a marker names, or undefined when it was not made with `key`. */
export function readKeyedFrom(key: Buffer, marker: string): number | undefined {
  const seq = Number(marker.slice(0, marker.indexOf(':')));
  return Number.isSafeInteger(seq) && seq > 0 && sameText(keyedFromMarker(key, seq), marker) ? seq : undefined;
}

/** The stored form of "the log ends at event `seq` with `hash`", authenticated. */
export function signHead(key: Buffer, seq: number, hash: string): string {
  return `${seq}:${hash}:${createHmac('sha256', key).update(`audit-head:${seq}:${hash}`).digest('hex')}`;
}

export function readHead(key: Buffer, text: string): { seq: number; hash: string } | undefined {
  const [seqText, hash] = text.split(':');
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || !hash || !sameText(signHead(key, seq, hash), text)) return undefined;
  return { seq, hash };
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type ChainCheck =
  | { ok: true; events: number; head: string; headSeq: number }
  | { ok: false; events: number; seq: number; problem: 'changed' | 'removed-or-reordered' };

/** Reads `events` (as a state store's `auditEvents` gives them) to the end or to the first break. */
export async function verifyChain(events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>, key: Buffer, keyedFrom: number): Promise<ChainCheck> {
  let prev = GENESIS;
  let expectedSeq = 1;
  let count = 0;
  for await (const e of events) {
    count++;
    if (e.seq !== expectedSeq || e.prevHash !== prev) return { ok: false, events: count, seq: e.seq, problem: 'removed-or-reordered' };
    const expected = e.seq >= keyedFrom ? macEvent(key, e.seq, e.prevHash, e) : legacyHash(e.seq, e.prevHash, e);
    if (!sameText(expected, e.hash)) return { ok: false, events: count, seq: e.seq, problem: 'changed' };
    prev = e.hash;
    expectedSeq++;
  }
  return { ok: true, events: count, head: prev, headSeq: expectedSeq - 1 };
}

/** A signed statement "the chain had `hash` at event `seq`", to keep outside Rotor's host. */
export interface Checkpoint {
  format: 'rotor-audit-checkpoint/v1';
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  mac: string;
}

const checkpointText = (c: Omit<Checkpoint, 'mac'>) => JSON.stringify([c.format, c.seq, c.hash, c.at, c.keyId]);

export function signCheckpoint(key: Buffer, c: Omit<Checkpoint, 'mac' | 'format'>): Checkpoint {
  const body = { format: 'rotor-audit-checkpoint/v1' as const, ...c };
  return { ...body, mac: createHmac('sha256', key).update(checkpointText(body)).digest('hex') };
}

export function checkpointIsAuthentic(key: Buffer, c: Checkpoint): boolean {
  return sameText(createHmac('sha256', key).update(checkpointText(c)).digest('hex'), c.mac);
}
