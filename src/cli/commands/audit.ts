/**
 * `rotor audit verify [--checkpoint FILE]` / `rotor audit export [--since T] [--checkpoint FILE]`
 * / `rotor audit accept-legacy` (app/audit.ts). Verifying needs the master key.
 */
import { acceptLegacyAudit, exportAudit, verifyAudit, type AuditBroken } from '../../app/audit.js';
import { exitCodeForAudit } from '../../app/outcomes.js';
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';

const USAGE = 'rotor audit verify [--checkpoint FILE] [--json] | rotor audit export [--since 2026-01-31T00:00Z|24h] [--checkpoint FILE] | rotor audit accept-legacy';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { since: { type: 'string' }, checkpoint: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const [sub, ...extra] = parsed.positionals;
  if ((sub !== 'verify' && sub !== 'export' && sub !== 'accept-legacy') || extra.length) throw new UsageError('audit takes verify, export or accept-legacy', `usage: ${USAGE}`);
  if (sub === 'verify' && parsed.values.since !== undefined) throw new UsageError('--since applies to `audit export`; verify always checks the whole chain');
  const config = openConfig(parsed.values.config, { readOnly: true });
  const { since, checkpoint: checkpointFile } = parsed.values;

  if (sub === 'export') {
    const r = await exportAudit(config, { since, checkpointFile }, (e) => void process.stdout.write(`${JSON.stringify(e)}\n`));
    if (!r.ok) printBroken(r);
    else if (r.checkpoint) process.stderr.write(`checkpoint of event #${r.checkpoint.seq} written to ${checkpointFile}: keep it where this host cannot write\n`);
    return exitCodeForAudit(r);
  }

  if (sub === 'accept-legacy') {
    const r = await acceptLegacyAudit(config);
    if (!r.ok) printBroken(r);
    else if ('alreadyKeyedFrom' in r) process.stdout.write(`the audit chain is already keyed (from event #${r.alreadyKeyedFrom}): nothing to accept\n`);
    else process.stdout.write(`accepted ${r.accepted} unkeyed events; the chain is keyed from event #${r.keyedFrom} on\n`);
    return exitCodeForAudit(r);
  }

  const r = await verifyAudit(config, { checkpointFile });
  if (!r.ok) printBroken(r);
  else if (parsed.values.json) {
    const { checkpoint, ...chain } = r;
    process.stdout.write(`${JSON.stringify({ ...chain, checkpoint: checkpoint ? { seq: checkpoint.seq, ok: true } : undefined })}\n`);
  } else {
    const { checkpoint } = r;
    process.stdout.write(`audit chain ok: ${r.events} events, head ${r.head.slice(0, 16)}${checkpoint ? `; matches the checkpoint of event #${checkpoint.seq} (${checkpoint.at})` : ''}\n`);
  }
  return exitCodeForAudit(r);
}

function printBroken(r: AuditBroken): void {
  process.stderr.write(`rotor: ${r.message}\n${r.hint ? `  → ${r.hint}\n` : ''}`);
}
