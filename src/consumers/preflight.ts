/**
 * Preflight of a secret's consumers: each delivery target, reload and health kind that can
 * prove ahead of time that it will be allowed to act (DeliveryTargetDefinition.preflight,
 * ConsumerActionKind.preflight — the Kubernetes ones ask the API server's RBAC) is asked,
 * touching nothing, before a rotation creates anything and at `rotor plan`. Kinds without
 * a preflight are skipped: most find out only by acting.
 *
 * Answers are kept a minute per loaded config: ten secrets sharing a consumer ask its
 * cluster once, and the daemon still sees a permission granted since.
 */
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import { isDeliveryTargetConfig, preflightDeliveryTarget } from '../delivery/registry.js';
import { RotorError } from '../errors.js';
import { deliveriesFor } from './actions.js';
import { preflightHealthStep } from './health/registry.js';
import { preflightReloadStep } from './reload/registry.js';

const KEEP_MS = 60_000;
const asked = new WeakMap<RotorConfig, Map<string, { at: number; answer: Promise<void> }>>();

function once(config: RotorConfig, key: string, check: () => Promise<void>): Promise<void> {
  let byKey = asked.get(config);
  if (!byKey) asked.set(config, (byKey = new Map()));
  const kept = byKey.get(key);
  if (kept && Date.now() - kept.at < KEEP_MS) return kept.answer;
  const answer = check();
  byKey.set(key, { at: Date.now(), answer });
  return answer;
}

/** Throws, naming the consumer, the first thing a consumer of `secret` would not be allowed to do. */
export async function preflightConsumers(config: RotorConfig, secret: SecretConfig): Promise<void> {
  for (const name of secret.consumers) {
    const consumer = config.consumers[name];
    if (!consumer) continue;
    const checks: [string, () => Promise<void>][] = [];
    for (const store of new Set(deliveriesFor(consumer, secret.id).flatMap((d) => ('store' in d ? [d.store] : [])))) {
      const target = config.stores[store];
      if (target && isDeliveryTargetConfig(target)) checks.push([`store:${store}`, () => preflightDeliveryTarget(target)]);
    }
    for (const step of consumer.reload) checks.push([`reload:${JSON.stringify(step)}`, () => preflightReloadStep(step, config)]);
    for (const step of consumer.health) checks.push([`health:${JSON.stringify(step)}`, () => preflightHealthStep(step, config)]);
    try {
      await Promise.all(checks.map(([key, check]) => once(config, key, check)));
    } catch (err) {
      if (!(err instanceof RotorError)) throw err;
      throw new RotorError(`consumer ${name}: ${err.message}`, { outcome: err.outcome, hint: err.hint, cause: err });
    }
  }
}
