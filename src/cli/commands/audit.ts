/**
 * `rotor audit verify [--checkpoint FILE]` / `rotor audit export [--since T] [--checkpoint FILE]`.
 * Verifying needs the master key: the chain is keyed with it, so that whoever can write the
 * state database alone cannot remove an event and recompute the chain.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { checkpointIsAuthentic, signCheckpoint, verifyChain, type Checkpoint } from '../../audit/chain.js';
import { parseDuration } from '../../config/duration.js';
import { deriveKeys, loadMasterKey } from '../../crypto/master-key.js';
import { MasterKeyError, UnkeyedAuditError, UsageError } from '../../errors.js';
import type { AuditEvent, StateStore } from '../../state/types.js';
import { parse } from '../args.js';
import { defaultMasterKeyFile, describeState, openConfig, openState } from '../open.js';

const USAGE = 'rotor audit verify [--checkpoint FILE] [--json] | rotor audit export [--since 2026-01-31T00:00Z|24h] [--checkpoint FILE] | rotor audit accept-legacy';

const checkpointSchema = z.strictObject({
  format: z.literal('rotor-audit-checkpoint/v1'),
  seq: z.number().int().min(0),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().max(40),
  keyId: z.string().max(64),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { since: { type: 'string' }, checkpoint: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const [sub, ...extra] = parsed.positionals;
  if ((sub !== 'verify' && sub !== 'export' && sub !== 'accept-legacy') || extra.length) throw new UsageError('audit takes verify, export or accept-legacy', `usage: ${USAGE}`);
  if (sub === 'verify' && parsed.values.since !== undefined) throw new UsageError('--since applies to `audit export`; verify always checks the whole chain');
  const config = openConfig(parsed.values.config, { readOnly: true });
  const given = sub === 'verify' && parsed.values.checkpoint !== undefined ? readCheckpoint(parsed.values.checkpoint) : undefined;
  const state = await openState(config);
  try {
    if (sub === 'export' && parsed.values.checkpoint === undefined) {
      const since = sinceOf(parsed.values.since);
      for await (const e of state.auditEvents(since)) process.stdout.write(`${JSON.stringify(e)}\n`);
      return 0;
    }
    const keys = deriveKeys(loadMasterKey({ env: process.env, defaultFile: defaultMasterKeyFile(config) }));
    if (!(await state.checkKeyId(keys.keyId))) {
      throw new MasterKeyError(`the master key is not the one ${describeState(config)} was created with`, 'the audit chain is keyed with the original master key: use it');
    }
    await state.integrityCheck();
    if (sub === 'accept-legacy') return await acceptLegacy(state, keys.audit);
    const keyedFrom = await state.useAuditKey(keys.audit);
    const result = await verifyChain(state.auditEvents(), keys.audit, keyedFrom);
    if (!result.ok) return reportBroken(result.seq, result.problem);

    if (sub === 'export') {
      // The events, then a checkpoint of the verified head to keep elsewhere (a ticket, a bucket with retention).
      const since = sinceOf(parsed.values.since);
      for await (const e of state.auditEvents(since)) process.stdout.write(`${JSON.stringify(e)}\n`);
      const checkpoint = signCheckpoint(keys.checkpoint, { seq: result.headSeq, hash: result.head, at: new Date().toISOString(), keyId: keys.keyId });
      writeFileSync(parsed.values.checkpoint!, `${JSON.stringify(checkpoint)}\n`, { flag: 'wx', mode: 0o644 });
      process.stderr.write(`checkpoint of event #${checkpoint.seq} written to ${parsed.values.checkpoint}: keep it where this host cannot write\n`);
      return 0;
    }

    if (given) {
      if (given.keyId !== keys.keyId || !checkpointIsAuthentic(keys.checkpoint, given)) {
        process.stderr.write(`rotor: the checkpoint ${parsed.values.checkpoint} was not signed with this master key, or was changed\n`);
        return 3;
      }
      const at = await eventAt(state, given.seq);
      if (given.seq > 0 && at?.hash !== given.hash) {
        process.stderr.write(`rotor: the audit log no longer holds event #${given.seq} as checkpointed at ${given.at}: events up to it were ${at ? 'rewritten' : 'removed'}\n`);
        process.stderr.write('  → treat the state database as tampered with; compare with a backup or an earlier `rotor audit export`\n');
        return 3;
      }
    }
    if (parsed.values.json) process.stdout.write(`${JSON.stringify({ ...result, checkpoint: given ? { seq: given.seq, ok: true } : undefined })}\n`);
    else process.stdout.write(`audit chain ok: ${result.events} events, head ${result.head.slice(0, 16)}${given ? `; matches the checkpoint of event #${given.seq} (${given.at})` : ''}\n`);
    return 0;
  } finally {
    await state.close();
  }
}

/** Keys an unmarked chain from its next event on, after checking its SHA-256 links hold. */
async function acceptLegacy(state: StateStore, key: Buffer): Promise<number> {
  try {
    const keyedFrom = await state.useAuditKey(key);
    process.stdout.write(`the audit chain is already keyed (from event #${keyedFrom}): nothing to accept\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof UnkeyedAuditError)) throw err;
  }
  const legacy = await verifyChain(state.auditEvents(), key, Number.POSITIVE_INFINITY);
  if (!legacy.ok) return reportBroken(legacy.seq, legacy.problem);
  const keyedFrom = await state.useAuditKey(key, { acceptLegacy: true });
  process.stdout.write(`accepted ${legacy.events} unkeyed events; the chain is keyed from event #${keyedFrom} on\n`);
  return 0;
}

async function eventAt(state: StateStore, seq: number): Promise<AuditEvent | undefined> {
  for await (const e of state.auditEvents()) if (e.seq === seq) return e;
  return undefined;
}

function reportBroken(seq: number, problem: 'changed' | 'removed-or-reordered'): number {
  process.stderr.write(
    problem === 'changed'
      ? `rotor: audit event #${seq} was changed after it was written\n`
      : `rotor: the audit chain breaks at event #${seq}: an event before it was removed, or events were reordered\n`,
  );
  process.stderr.write('  → treat the state database as tampered with; compare with a backup or an earlier `rotor audit export`\n');
  return 3;
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
  if (Number.isNaN(at)) throw new UsageError(`--since ${text} is neither a time (2026-01-31T00:00Z) nor a duration (24h)`);
  return at;
}
