/** `rotor audit verify` / `rotor audit export [--since T]`. */
import { verifyChain } from '../../audit/chain.js';
import { parseDuration } from '../../config/duration.js';
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig, openState } from '../open.js';

const USAGE = 'rotor audit verify [--json] | rotor audit export [--since 2026-01-31T00:00Z|24h]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { since: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const [sub, ...extra] = parsed.positionals;
  if ((sub !== 'verify' && sub !== 'export') || extra.length) throw new UsageError('audit takes verify or export', `usage: ${USAGE}`);
  if (sub === 'verify' && parsed.values.since !== undefined) throw new UsageError('--since applies to `audit export`; verify always checks the whole chain');
  const config = openConfig(parsed.values.config);
  const state = openState(config);
  try {
    if (sub === 'export') {
      const since = sinceOf(parsed.values.since);
      for (const e of state.auditEvents(since)) process.stdout.write(`${JSON.stringify(e)}\n`);
      return 0;
    }
    state.quickCheck(config.state.path);
    const result = verifyChain(state.auditEvents());
    if (parsed.values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.ok) {
      if (!parsed.values.json) process.stdout.write(`audit chain ok: ${result.events} events, head ${result.head.slice(0, 16)}\n`);
      return 0;
    }
    process.stderr.write(
      result.problem === 'changed'
        ? `rotor: audit event #${result.seq} was changed after it was written\n`
        : `rotor: the audit chain breaks at event #${result.seq}: an event before it was removed, or events were reordered\n`,
    );
    process.stderr.write('  → treat the state database as tampered with; compare with a backup or an earlier `rotor audit export`\n');
    return 3;
  } finally {
    state.close();
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
