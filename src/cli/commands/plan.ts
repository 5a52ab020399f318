/** `rotor plan [ids…] [--all] [--due] [--json]`: what a rotation would do, touching nothing. */
import { formatDuration } from '../../config/duration.js';
import { definitionOf } from '../../rotators/registry.js';
import { parse } from '../args.js';
import { dueSecrets } from '../../app/due.js';
import { openConfig, openState, selectSecrets } from '../open.js';
import { orderSecrets } from '../../engine/planner.js';
import type { RotorConfig, SecretConfig } from '../../config/schema.js';
import { deliveriesFor } from '../../consumers/actions.js';
import { newRedactor } from '../../engine/redact.js';
import { requestFor, RotatorPool } from '../../engine/rotator-pool.js';
import { describeError, NotFoundError, RotorError, type Outcome } from '../../errors.js';
import type { SecretSummary, StateStore } from '../../state/types.js';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { due: { type: 'boolean' }, all: { type: 'boolean' }, offline: { type: 'boolean' } }, 'rotor plan [ids…] [--all] [--due] [--offline] [--json]');
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const config = openConfig(values.config, { readOnly: Boolean(values.offline) });
  const summaries = await summariesIfAny(config);
  let secrets = positionals.length ? selectSecrets(config, positionals) : config.secrets;
  if (values.due) secrets = dueSecrets(secrets, summaries, Date.now());
  const ordered = orderSecrets(secrets);
  const checks = values.offline ? new Map<string, TargetCheck>() : await checkTargets(config, ordered);
  const plans = ordered.map((s) => {
    const { steps, notes } = definitionOf(s.type).plan(s.spec);
    const sum = summaries.get(s.id);
    const check = checks.get(s.id);
    return {
      id: s.id, type: s.type, priority: s.priority, store: s.store, target: s.target ?? null,
      from: sum?.currentVersion ?? null,
      grace: formatDuration(s.graceMs),
      steps: { ...steps, propagate: describeConsumers(config, s) },
      notes: [...(check?.notes ?? []), ...notes],
      problem: check?.problem ?? null,
    };
  });
  const problems = plans.filter((p) => p.problem);
  const code = problems.some((p) => p.problem!.outcome === 'usage') ? 2 : problems.length ? 1 : 0;
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
  if (problems.length) {
    process.stderr.write(`rotor: ${problems.length} secret${problems.length === 1 ? '' : 's'} cannot be rotated as configured: ${problems.map((p) => p.id).join(', ')}\n`);
  }
  return code;
}

/** What the state says of each secret; nothing before `rotor init` made a state, so a bare rotor.yaml can be planned. */
async function summariesIfAny(config: RotorConfig): Promise<Map<string, SecretSummary>> {
  let state: StateStore;
  try {
    state = await openState(config);
  } catch (err) {
    if (err instanceof NotFoundError) return new Map();
    throw err;
  }
  try {
    return await state.summaries();
  } finally {
    await state.close();
  }
}

interface TargetCheck {
  notes: string[];
  problem?: { message: string; hint: string | undefined; outcome: Outcome };
}

/** Asks each secret's target, read-only, whether it can do what the secret asks. */
async function checkTargets(config: RotorConfig, secrets: SecretConfig[]): Promise<Map<string, TargetCheck>> {
  const out = new Map<string, TargetCheck>();
  const redactor = newRedactor(config);
  const rotators = new RotatorPool(config, Date.now, { redactor });
  const signal = new AbortController().signal;
  try {
    await Promise.all(secrets.filter((s) => s.target !== undefined).map(async (s) => {
      try {
        out.set(s.id, await (await rotators.get(definitionOf(s.type))).preflight(requestFor(config, s, signal)));
      } catch (err) {
        out.set(s.id, {
          notes: [],
          problem: {
            message: redactor.redact(describeError(err)),
            hint: err instanceof RotorError ? err.hint : undefined,
            outcome: err instanceof RotorError ? err.outcome : 'rolled-back',
          },
        });
      }
    }));
  } finally {
    await rotators.close();
  }
  return out;
}

function describeConsumers(config: RotorConfig, secret: SecretConfig): string {
  const names = secret.consumers;
  if (!names.length) return 'nothing to deliver: no consumers';
  return names.map((n) => {
    const c = config.consumers[n]!;
    const mine = deliveriesFor(c, secret.id);
    const others = config.secrets.filter((s) => s.id !== secret.id && s.consumers.includes(n)).map((s) => s.id);
    const parts = [
      mine.length ? `deliver ${mine.map((d) => ('template' in d ? `${d.template} → ${d.to}` : `${d.key}${d.field ? ` (${d.field})` : ''} → ${d.store}`)).join(', ')}` : '',
      c.reload.length ? `${c.reload.length} reload${c.reload.length === 1 ? '' : 's'}` : '',
      c.health.length ? `${c.health.length} health check${c.health.length === 1 ? '' : 's'}` : '',
      others.length && c.reload.length + c.health.length ? `shared with ${others.join(', ')} when rotated in one run` : '',
    ].filter(Boolean);
    return `${n}: ${parts.join(', ') || 'nothing'}`;
  }).join('; ') + ' (a failed check rolls back)';
}
