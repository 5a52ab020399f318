/**
 * `rotor emergency --scope critical|high|all --incident I --reason R`: rotates everything
 * in scope, highest priority first, with no grace, and writes an incident report
 * (app/emergency.ts).
 */
import { checkIncidentId, runEmergency } from '../../app/emergency.js';
import { UsageError } from '../../errors.js';
import { intFlag, parse, textFlag } from '../args.js';
import { interruptible, openConfig } from '../open.js';
import { printOutcomes, Progress } from '../output.js';

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
  checkIncidentId(incident);
  const concurrency = intFlag(values.concurrency, 'concurrency', 1, 256);
  const config = openConfig(values.config);
  const { report, reportFile } = await interruptible((signal) => runEmergency({
    config, scope, incident, reason, concurrency, progress: (total) => new Progress(total, 'rotating'), signal,
  }));
  if (values.json) process.stdout.write(`${JSON.stringify({ ...report, reportFile })}\n`);
  else {
    printOutcomes(report.outcomes, report.elapsedMs);
    process.stdout.write(`incident report: ${reportFile}\n`);
  }
  return report.exitCode;
}
