/** `rotor plan [ids…] [--all] [--due] [--json]`: what a rotation would do, touching nothing. */
import { formatDuration } from '../../config/duration.js';
import { definitionOf } from '../../rotators/registry.js';
import { parse } from '../args.js';
import { dueSecrets } from '../due.js';
import { openConfig, openState, selectSecrets } from '../open.js';
import { orderSecrets } from '../../engine/planner.js';
import { existsSync } from 'node:fs';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { due: { type: 'boolean' }, all: { type: 'boolean' } }, 'rotor plan [ids…] [--all] [--due] [--json]');
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const config = openConfig(values.config);
  const state = existsSync(config.state.path) ? openState(config) : undefined;
  const summaries = state ? await state.summaries() : new Map();
  state?.close();
  let secrets = positionals.length ? selectSecrets(config, positionals) : config.secrets;
  if (values.due) secrets = dueSecrets(secrets, summaries, Date.now());
  const plans = orderSecrets(secrets).map((s) => {
    const { steps, notes } = definitionOf(s.type).plan(s.spec);
    const sum = summaries.get(s.id);
    return {
      id: s.id, type: s.type, priority: s.priority, store: s.store, target: s.target ?? null,
      from: sum?.currentVersion ?? null,
      grace: formatDuration(s.graceMs),
      // Consumers (deliver, reload, health) are not configurable yet, so propagate has nothing to do.
      steps: { ...steps, propagate: 'nothing to deliver: no consumers configured' }, notes,
    };
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ plans })}\n`);
    return 0;
  }
  if (!plans.length) process.stdout.write('nothing to rotate\n');
  for (const p of plans) {
    process.stdout.write(`${p.id} (${p.type}, ${p.priority}): ${p.from === null ? 'first version' : `v${p.from} → v${p.from + 1}`}, store ${p.store}${p.target ? `, target ${p.target}` : ''}\n`);
    for (const [step, what] of Object.entries(p.steps)) {
      process.stdout.write(`  ${step.padEnd(9)} ${step === 'retire' ? `${what} (grace ${p.grace}; at once with --no-grace)` : what}\n`);
    }
    for (const note of p.notes) process.stdout.write(`  note: ${note}\n`);
  }
  return 0;
}
