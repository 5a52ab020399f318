/**
 * What a rotation would do, touching nothing: each secret's steps, consumers and notes, and
 * what its target says (read-only) of whether it can do what the secret asks. Behind
 * `rotor plan` and the API's plan; app/outcomes.ts turns the problems into an exit code or
 * an HTTP status.
 */
import { formatDuration } from '../config/duration.js';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import { deliveriesFor } from '../consumers/actions.js';
import { preflightConsumers } from '../consumers/preflight.js';
import { orderSecrets } from '../engine/planner.js';
import { newRedactor } from '../engine/redact.js';
import { requestFor, RotatorPool } from '../engine/rotator-pool.js';
import { describeError, NotFoundError, RotorError, type Outcome } from '../errors.js';
import { definitionOf } from '../rotators/registry.js';
import type { StepPlan } from '../rotators/types.js';
import type { SecretSummary, StateStore } from '../state/types.js';
import { dueSecrets } from './due.js';
import { openState, selectSecrets } from './engine.js';

/** Why a secret cannot be rotated as configured; `outcome` is the class of the error its target gave. */
export interface PlanProblem {
  message: string;
  hint: string | undefined;
  outcome: Outcome;
}

export interface SecretPlan {
  id: string;
  type: string;
  priority: SecretConfig['priority'];
  store: string;
  target: string | null;
  /** The current version, or null before the first. */
  from: number | null;
  grace: string;
  /** What each step does. */
  steps: StepPlan;
  notes: string[];
  problem: PlanProblem | null;
}

export interface PlanOptions {
  /** The secrets to plan; none: every secret in rotor.yaml. */
  ids?: string[];
  /** Only the secrets due now. */
  due?: boolean;
  /** Ask no target. */
  offline?: boolean;
  now?: number;
}

export async function planRotations(config: RotorConfig, opts: PlanOptions = {}): Promise<{ plans: SecretPlan[] }> {
  const summaries = await summariesIfAny(config);
  let secrets = opts.ids?.length ? selectSecrets(config, opts.ids) : config.secrets;
  if (opts.due) secrets = dueSecrets(secrets, summaries, opts.now ?? Date.now());
  const ordered = orderSecrets(secrets);
  const checks = opts.offline ? new Map<string, TargetCheck>() : await checkTargets(config, ordered);
  const plans = ordered.map((s): SecretPlan => {
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
  return { plans };
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
  problem?: PlanProblem;
}

/** Asks each secret's target, read-only, whether it can do what the secret asks, and its consumers' kinds whether they may act. */
async function checkTargets(config: RotorConfig, secrets: SecretConfig[]): Promise<Map<string, TargetCheck>> {
  const out = new Map<string, TargetCheck>();
  const redactor = newRedactor(config);
  const rotators = new RotatorPool(config, Date.now, { redactor });
  const signal = new AbortController().signal;
  try {
    await Promise.all(secrets.filter((s) => s.target !== undefined || s.consumers.length).map(async (s) => {
      try {
        const check = s.target === undefined ? { notes: [] } : await (await rotators.get(definitionOf(s.type))).preflight(requestFor(config, s, signal));
        await preflightConsumers(config, s);
        out.set(s.id, check);
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
      mine.length ? `deliver ${mine.map((d) => ('template' in d ? `${d.template} → ${d.to}` : `${d.key}${d.field ? ` (${d.field})` : d.format ? ' (format)' : ''} → ${d.store}`)).join(', ')}` : '',
      c.reload.length ? `${c.reload.length} reload${c.reload.length === 1 ? '' : 's'}` : '',
      c.health.length ? `${c.health.length} health check${c.health.length === 1 ? '' : 's'}` : '',
      others.length && c.reload.length + c.health.length ? `shared with ${others.join(', ')} when rotated in one run` : '',
    ].filter(Boolean);
    return `${n}: ${parts.join(', ') || 'nothing'}`;
  }).join('; ') + ' (a failed check rolls back)';
}
