/**
 * `reload: [{ rolloutRestart: { namespace, deployment | statefulset | daemonset } }]`: what
 * `kubectl rollout restart` does — a new `restartedAt` on the pod template, so every pod is
 * replaced and reads the Secret again. A round reloads a consumer once however many of its
 * secrets changed, so a run restarts each workload once. Pair it with a `rolloutStatus`
 * health step to wait for the new pods.
 */
import { z } from 'zod';
import { workloadOf, workloadSchema } from '../../kubernetes/schema.js';
import { timed, type ConsumerActionKind } from '../kinds.js';

export const rolloutRestartSchema = z.strictObject({ rolloutRestart: workloadSchema.describe('the workload to restart'), ...timed(0) });
export type RolloutRestartStep = z.infer<typeof rolloutRestartSchema>;

export const rolloutRestartReload = {
  schema: rolloutRestartSchema,
  async preflight({ step, config }) {
    const [{ connect }, { requireAccess }, { accessFor }] = await Promise.all([import('../../kubernetes/api.js'), import('../../kubernetes/access.js'), import('../../kubernetes/workloads.js')]);
    const { kind, name } = workloadOf(step.rolloutRestart);
    const ns = step.rolloutRestart.namespace;
    await requireAccess(connect(step.rolloutRestart, config.dir), accessFor(kind, ns, name, ['get', 'patch']), `restart ${kind} ${ns}/${name}`);
  },
  async run({ step, config }) {
    const [{ connect }, { restartWorkload }] = await Promise.all([import('../../kubernetes/api.js'), import('../../kubernetes/workloads.js')]);
    const { kind, name } = workloadOf(step.rolloutRestart);
    const ns = step.rolloutRestart.namespace;
    await restartWorkload(connect(step.rolloutRestart, config.dir), kind, ns, name, new Date());
    return `restarted ${kind} ${ns}/${name}`;
  },
} satisfies ConsumerActionKind<RolloutRestartStep>;
