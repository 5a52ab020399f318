/**
 * The audit log: verify the keyed chain (and a checkpoint kept elsewhere), export it (with a
 * signed checkpoint of its verified head), and key a chain an older Rotor left unkeyed.
 * Verifying needs the master key: the chain is keyed with it, so that whoever can write the
 * state database alone cannot remove an event and recompute the chain. Behind `rotor audit`
 * and the API's audit; a chain or checkpoint that does not hold comes back as a result
 * (`ok: false`), which app/outcomes.ts makes exit 3 or HTTP 500.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { checkpointIsAuthentic, signCheckpoint, verifyChain, type Checkpoint } from '../audit/chain.js';
import { parseDuration } from '../config/duration.js';
import type { RotorConfig } from '../config/schema.js';
import { deriveKeys } from '../crypto/master-key.js';
import { MasterKeyError, UnkeyedAuditError, UsageError } from '../errors.js';
import type { AuditEvent, StateStore } from '../state/types.js';
import { describeState, openState } from './engine.js';
import { masterKeyOf } from './master-key.js';

/** The chain or a checkpoint does not hold: treat the state database as tampered with. */
export interface AuditBroken {
  ok: false;
  problem: 'changed' | 'removed-or-reordered' | 'cut-at-end' | 'checkpoint-not-authentic' | 'checkpoint-not-held';
  message: string;
  hint: string | undefined;
}

export interface AuditVerified {
  ok: true;
  events: number;
  head: string;
  headSeq: number;
  /** The checkpoint given, which the chain still holds. */
  checkpoint?: { seq: number; at: string };
}

export interface AuditExported {
  ok: true;
  /** The signed checkpoint of the verified head, written to the file asked for. */
  checkpoint?: Checkpoint;
}

export type AuditAccepted =
  | { ok: true; alreadyKeyedFrom: number }
  | { ok: true; accepted: number; keyedFrom: number };

const TAMPERED = 'treat the state database as tampered with; compare with a backup or an earlier `rotor audit export`';

const checkpointSchema = z.strictObject({
  format: z.literal('rotor-audit-checkpoint/v1'),
  seq: z.number().int().min(0),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().max(40),
  keyId: z.string().max(64),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Checks every link of the chain, and that it still holds the event `checkpointFile` (written by an export) names. */
export async function verifyAudit(config: RotorConfig, opts: { checkpointFile?: string } = {}): Promise<AuditVerified | AuditBroken> {
  const given = opts.checkpointFile === undefined ? undefined : readCheckpoint(opts.checkpointFile);
  return withKeyedState(config, async (state, keys) => {
    const result = await verifiedChain(state, keys.audit);
    if (!result.ok) return result;
    if (given) {
      if (given.keyId !== keys.keyId || !checkpointIsAuthentic(keys.checkpoint, given)) {
        return { ok: false, problem: 'checkpoint-not-authentic', message: `the checkpoint ${opts.checkpointFile} was not signed with this master key, or was changed`, hint: undefined };
      }
      const at = await eventAt(state, given.seq);
      if (given.seq > 0 && at?.hash !== given.hash) {
        return {
          ok: false, problem: 'checkpoint-not-held', hint: TAMPERED,
          message: `the audit log no longer holds event #${given.seq} as checkpointed at ${given.at}: events up to it were ${at ? 'rewritten' : 'removed'}`,
        };
      }
    }
    return { ...result, checkpoint: given ? { seq: given.seq, at: given.at } : undefined };
  });
}

/**
 * Hands every event (since `since`: a time, 2026-01-31T00:00Z, or a duration ago, 24h) to
 * `onEvent`. With `checkpointFile`, verifies the chain first and then writes a signed
 * checkpoint of its head there (never over an existing file), to keep where this host cannot write.
 * Without a checkpoint nothing is verified, and `onEvent` may return false to stop reading.
 */
export async function exportAudit(
  config: RotorConfig, opts: { since?: string; checkpointFile?: string }, onEvent: (e: AuditEvent) => void | false,
): Promise<AuditExported | AuditBroken> {
  if (opts.checkpointFile === undefined) {
    const state = await openState(config);
    try {
      const since = sinceOf(opts.since);
      for await (const e of state.auditEvents(since)) if (onEvent(e) === false) break;
      return { ok: true };
    } finally {
      await state.close();
    }
  }
  const file = opts.checkpointFile;
  return withKeyedState(config, async (state, keys) => {
    const result = await verifiedChain(state, keys.audit);
    if (!result.ok) return result;
    const since = sinceOf(opts.since);
    for await (const e of state.auditEvents(since)) onEvent(e);
    const checkpoint = signCheckpoint(keys.checkpoint, { seq: result.headSeq, hash: result.head, at: new Date().toISOString(), keyId: keys.keyId });
    writeFileSync(file, `${JSON.stringify(checkpoint)}\n`, { flag: 'wx', mode: 0o644 });
    return { ok: true, checkpoint };
  });
}

/** The whole chain checked link by link, and against the head it recorded (verify and export both start here). */
async function verifiedChain(state: StateStore, auditKey: Buffer): Promise<AuditVerified | AuditBroken> {
  const keyedFrom = await state.useAuditKey(auditKey);
  const result = await verifyChain(state.auditEvents(), auditKey, keyedFrom);
  if (!result.ok) return broken(result.seq, result.problem);
  return (await cutAtEnd(state, result.headSeq, result.head, keyedFrom)) ?? result;
}

/** Every keyed event also records itself as the head: a chain that ends before it was cut. */
async function cutAtEnd(state: StateStore, lastSeq: number, lastHash: string, keyedFrom: number): Promise<AuditBroken | undefined> {
  const head = await state.auditHead();
  if (head ? head.seq === lastSeq && head.hash === lastHash : lastSeq < keyedFrom) return undefined;
  return {
    ok: false, problem: 'cut-at-end', hint: TAMPERED,
    message: `the audit log ends at event #${lastSeq}, but it recorded events up to #${head?.seq ?? '?'}: events were removed from its end`,
  };
}

/** Keys an unmarked chain from its next event on, after checking its SHA-256 links hold. */
export async function acceptLegacyAudit(config: RotorConfig): Promise<AuditAccepted | AuditBroken> {
  return withKeyedState(config, async (state, keys) => {
    try {
      return { ok: true, alreadyKeyedFrom: await state.useAuditKey(keys.audit) };
    } catch (err) {
      if (!(err instanceof UnkeyedAuditError)) throw err;
    }
    const legacy = await verifyChain(state.auditEvents(), keys.audit, Number.POSITIVE_INFINITY);
    if (!legacy.ok) return broken(legacy.seq, legacy.problem);
    const keyedFrom = await state.useAuditKey(keys.audit, { acceptLegacy: true });
    return { ok: true, accepted: legacy.events, keyedFrom };
  });
}

/** Opens the state with the master key checked against it and its integrity checked, for `fn`. */
async function withKeyedState<T>(config: RotorConfig, fn: (state: StateStore, keys: ReturnType<typeof deriveKeys>) => Promise<T>): Promise<T> {
  const state = await openState(config);
  try {
    const keys = deriveKeys((await masterKeyOf(config)).key);
    if (!(await state.checkKeyId(keys.keyId))) {
      throw new MasterKeyError(`the master key is not the one ${describeState(config)} was created with`, 'the audit chain is keyed with the original master key: use it');
    }
    await state.integrityCheck();
    return await fn(state, keys);
  } finally {
    await state.close();
  }
}

function broken(seq: number, problem: 'changed' | 'removed-or-reordered'): AuditBroken {
  return {
    ok: false, problem, hint: TAMPERED,
    message: problem === 'changed'
      ? `audit event #${seq} was changed after it was written`
      : `the audit chain breaks at event #${seq}: an event before it was removed, or events were reordered`,
  };
}

async function eventAt(state: StateStore, seq: number): Promise<AuditEvent | undefined> {
  for await (const e of state.auditEvents()) if (e.seq === seq) return e;
  return undefined;
}

function readCheckpoint(file: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the checkpoint ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return checkpointSchema.parse(JSON.parse(text));
  } catch {
    throw new UsageError(`${file} is not a Rotor audit checkpoint`, 'give the file `rotor audit export --checkpoint` wrote');
  }
}

function sinceOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ago = parseDuration(text);
  if (ago !== undefined) return Date.now() - ago;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`since "${text}" is neither a time (2026-01-31T00:00Z) nor a duration (24h)`, 'give an ISO time like 2026-01-31T00:00Z or a duration back like 24h or 7d');
  return at;
}
