/** `rotor plan [ids…] [--all] [--due] [--json]`: what a rotation would do, touching nothing (app/plan.ts). */
import { exitCodeForPlan } from '../../app/outcomes.js';
import { planRotations } from '../../app/plan.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { due: { type: 'boolean' }, all: { type: 'boolean' }, offline: { type: 'boolean' } }, 'rotor plan [ids…] [--all] [--due] [--offline] [--json]');
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const config = openConfig(values.config, { readOnly: Boolean(values.offline) });
  const { plans } = await planRotations(config, { ids: positionals, due: values.due, offline: values.offline });
  const code = exitCodeForPlan(plans);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ plans })}\n`);
    return code;
  }
  if (!plans.length) process.stdout.write('nothing to rotate\n');
  for (const p of plans) {
    process.stdout.write(`${p.id} (${p.type}, ${p.priority}): ${p.from === null ? 'first version' : `v${p.from} → v${p.from + 1}`}, store ${p.store}${p.target ? `, target ${p.target}` : ''}\n`);
    for (const [step, what] of Object.entries(p.steps)) {
      process.stdout.write(`  ${step.padEnd(9)} ${step === 'retire' ? `${what} (grace ${p.grace}; at once with --no-grace)` : what}\n`);
    }
    for (const note of p.notes) process.stdout.write(`  note: ${note}\n`);
    if (p.problem) process.stdout.write(`  PROBLEM: ${p.problem.message}${p.problem.hint ? `\n    → ${p.problem.hint}` : ''}\n`);
  }
  const problems = plans.filter((p) => p.problem);
  if (problems.length) {
    process.stderr.write(`rotor: ${problems.length} secret${problems.length === 1 ? '' : 's'} cannot be rotated as configured: ${problems.map((p) => p.id).join(', ')}\n`);
  }
  return code;
}
