/**
 * `health: [{ rolloutStatus: { namespace, deployment | statefulset | daemonset }, timeout: 5m }]`:
 * waits as `kubectl rollout status` does — the new generation observed, every replica
 * updated, old ones gone, the new ones available — and fails when the rollout has not
 * finished within `timeout` or cannot finish (a Deployment past its progress deadline), so
 * propagate rolls the secret back.
 */
import { z } from 'zod';
import { durationSchema } from '../../config/common.js';
import { workloadOf, workloadSchema } from '../../kubernetes/schema.js';
import { type ConsumerActionKind } from '../kinds.js';

export const rolloutStatusSchema = z.strictObject({
  rolloutStatus: workloadSchema.describe('the workload whose rollout must finish'),
  timeout: durationSchema.default('5m').describe('how long the rollout may take'),
  retries: z.number().int().min(0).max(100).default(0).describe('attempts after the first (each waits up to timeout)'),
  interval: durationSchema.default('1s').describe('wait between attempts'),
});
export type RolloutStatusStep = z.infer<typeof rolloutStatusSchema>;

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

export const rolloutStatusHealth = {
  schema: rolloutStatusSchema,
  async preflight({ step, config }) {
    const [{ connect }, { requireAccess }, { accessFor }] = await Promise.all([import('../../kubernetes/api.js'), import('../../kubernetes/access.js'), import('../../kubernetes/workloads.js')]);
    const { kind, name } = workloadOf(step.rolloutStatus);
    const ns = step.rolloutStatus.namespace;
    await requireAccess(connect(step.rolloutStatus, config.dir), accessFor(kind, ns, name, ['get']), `watch the rollout of ${kind} ${ns}/${name}`);
  },
  async run({ step, config, timeoutMs }) {
    const [{ connect }, { readWorkload, rolloutState }] = await Promise.all([import('../../kubernetes/api.js'), import('../../kubernetes/workloads.js')]);
    const { kind, name } = workloadOf(step.rolloutStatus);
    const ns = step.rolloutStatus.namespace;
    const kube = connect(step.rolloutStatus, config.dir);
    const deadline = Date.now() + timeoutMs;
    // Polled rather than watched: a short CLI run gains nothing from a watch, and a poll
    // survives the API server closing idle connections.
    const poll = Math.min(1000, Math.max(100, timeoutMs / 50));
    for (;;) {
      const state = rolloutState(await readWorkload(kube, kind, ns, name));
      if (state.done) return `${kind} ${ns}/${name}: ${state.message}`;
      if (state.failed) throw new Error(`${kind} ${ns}/${name}: ${state.message}`);
      if (Date.now() + poll > deadline) throw new Error(`${kind} ${ns}/${name} did not finish its rollout within ${step.timeout}: ${state.message}`);
      await sleep(poll);
    }
  },
} satisfies ConsumerActionKind<RolloutStatusStep>;
