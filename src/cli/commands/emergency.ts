/**
 * `rotor emergency --scope critical|high|all --incident I --reason R`: rotates everything
 * in scope, highest priority first, with no grace, and writes an incident report to
 * .rotor/incidents/<incident>-<time>.json for the post-mortem and the auditors.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIORITY_RANK } from '../../config/schema.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse, textFlag } from '../args.js';
import { actorName, openConfig } from '../open.js';
import { exitCodeFor, printOutcomes } from '../output.js';
import { rotateSecrets } from './rotate.js';

const USAGE = 'rotor emergency --scope critical|high|all --incident I --reason R [--concurrency N] [--json]';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { scope: { type: 'string' }, incident: { type: 'string' }, reason: { type: 'string' }, concurrency: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const { values } = parsed;
  const scope = values.scope;
  if (scope !== 'critical' && scope !== 'high' && scope !== 'all') throw new UsageError('--scope must be critical, high or all', `usage: ${USAGE}`);
  const incident = textFlag(values.incident, 'incident');
  const reason = textFlag(values.reason, 'reason');
  if (!incident || !reason) throw new UsageError('an emergency needs --incident and --reason, for the audit log and the report', `usage: ${USAGE}`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(incident)) throw new UsageError('--incident must be an id of letters, digits, . _ and - (it names the report file)');
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256);
  const config = openConfig(values.config);
  const maxRank = scope === 'all' ? Infinity : PRIORITY_RANK[scope];
  const inScope = config.secrets.filter((s) => PRIORITY_RANK[s.priority] <= maxRank);

  const startedAt = new Date();
  const { outcomes, elapsedMs } = await rotateSecrets({
    config, select: async () => inScope, trigger: 'emergency', reason, incident, noGrace: true, concurrency,
  });
  const exitCode = exitCodeFor(outcomes);
  const report = {
    incident, reason, scope, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), elapsedMs, exitCode,
    actor: actorName(),
    rotated: outcomes.filter((o) => o.status === 'succeeded').map((o) => o.secretId).sort(),
    needsAttention: outcomes.filter((o) => o.status !== 'succeeded'),
    outcomes,
  };
  const dir = join(config.dir, '.rotor', 'incidents');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${incident}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  if (values.json) process.stdout.write(`${JSON.stringify({ ...report, reportFile: file })}\n`);
  else {
    printOutcomes(outcomes, elapsedMs);
    process.stdout.write(`incident report: ${file}\n`);
  }
  return exitCode;
}
