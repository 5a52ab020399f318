/**
 * Deployments, StatefulSets and DaemonSets: `kubectl rollout restart` (a new
 * `kubectl.kubernetes.io/restartedAt` on the pod template, so the controller replaces every
 * pod) and `kubectl rollout status` (the same reading of the status, kind by kind, as
 * kubectl's status viewers).
 */
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { kubeError, mergePatch, type Kube } from './api.js';
import type { Access } from './access.js';
import type { WorkloadKind } from './schema.js';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

type Workload = { kind: 'deployment'; obj: V1Deployment } | { kind: 'statefulset'; obj: V1StatefulSet } | { kind: 'daemonset'; obj: V1DaemonSet };

const RESOURCE: Record<WorkloadKind, string> = { deployment: 'deployments', statefulset: 'statefulsets', daemonset: 'daemonsets' };

export function accessFor(kind: WorkloadKind, namespace: string, name: string, verbs: string[]): Access[] {
  return verbs.map((verb) => ({ verb, group: 'apps', resource: RESOURCE[kind], namespace, name }));
}

export async function readWorkload(kube: Kube, kind: WorkloadKind, namespace: string, name: string): Promise<Workload> {
  try {
    switch (kind) {
      case 'deployment': return { kind, obj: await kube.apps.readNamespacedDeployment({ name, namespace }) };
      case 'statefulset': return { kind, obj: await kube.apps.readNamespacedStatefulSet({ name, namespace }) };
      case 'daemonset': return { kind, obj: await kube.apps.readNamespacedDaemonSet({ name, namespace }) };
    }
  } catch (err) {
    throw kubeError(err, `read ${kind} ${namespace}/${name}`, kube);
  }
}

/** `kubectl rollout restart`: the template annotation changes, so every pod is replaced. */
export async function restartWorkload(kube: Kube, kind: WorkloadKind, namespace: string, name: string, at: Date): Promise<void> {
  const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at.toISOString() } } } } };
  try {
    switch (kind) {
      case 'deployment': await kube.apps.patchNamespacedDeployment({ name, namespace, body }, mergePatch); break;
      case 'statefulset': await kube.apps.patchNamespacedStatefulSet({ name, namespace, body }, mergePatch); break;
      case 'daemonset': await kube.apps.patchNamespacedDaemonSet({ name, namespace, body }, mergePatch); break;
    }
  } catch (err) {
    throw kubeError(err, `restart ${kind} ${namespace}/${name}`, kube);
  }
}

export interface RolloutState {
  done: boolean;
  /** The rollout cannot finish by waiting (a Deployment past its progress deadline, a strategy with no rollout). */
  failed: boolean;
  message: string;
}

const waiting = (message: string): RolloutState => ({ done: false, failed: false, message });
const failed = (message: string): RolloutState => ({ done: false, failed: true, message });

/** What `kubectl rollout status` would say of the workload now. */
export function rolloutState(w: Workload): RolloutState {
  const generation = w.obj.metadata?.generation ?? 0;
  switch (w.kind) {
    case 'deployment': {
      const s = w.obj.status ?? {};
      if (generation > (s.observedGeneration ?? 0)) return waiting('waiting for the deployment spec update to be observed');
      const progressing = s.conditions?.find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') return failed('the deployment exceeded its progress deadline');
      const want = w.obj.spec?.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      if (updated < want) return waiting(`${updated} of ${want} new replicas have been updated`);
      if ((s.replicas ?? 0) > updated) return waiting(`${(s.replicas ?? 0) - updated} old replicas are pending termination`);
      if ((s.availableReplicas ?? 0) < updated) return waiting(`${s.availableReplicas ?? 0} of ${updated} updated replicas are available`);
      return { done: true, failed: false, message: 'successfully rolled out' };
    }
    case 'statefulset': {
      const s = w.obj.status;
      if ((w.obj.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return failed('rollout status is only available for the RollingUpdate strategy');
      if (!s || !s.observedGeneration || generation > s.observedGeneration) return waiting('waiting for the statefulset spec update to be observed');
      const want = w.obj.spec?.replicas ?? 1;
      if ((s.readyReplicas ?? 0) < want) return waiting(`${want - (s.readyReplicas ?? 0)} pods are not ready yet`);
      const partition = w.obj.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
      if (partition > 0) {
        const expected = want - partition;
        return (s.updatedReplicas ?? 0) < expected ? waiting(`${s.updatedReplicas ?? 0} of ${expected} partitioned pods updated`) : { done: true, failed: false, message: `partitioned roll out complete: ${expected} new pods` };
      }
      if (s.updateRevision !== s.currentRevision) return waiting(`${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision ?? '?'}`);
      return { done: true, failed: false, message: `rolling update complete ${s.currentReplicas ?? want} pods at revision ${s.currentRevision ?? '?'}` };
    }
    case 'daemonset': {
      const s = w.obj.status;
      if ((w.obj.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return failed('rollout status is only available for the RollingUpdate strategy');
      if (!s || generation > (s.observedGeneration ?? 0)) return waiting('waiting for the daemon set spec update to be observed');
      if ((s.updatedNumberScheduled ?? 0) < s.desiredNumberScheduled) return waiting(`${s.updatedNumberScheduled ?? 0} of ${s.desiredNumberScheduled} updated pods are scheduled`);
      if ((s.numberAvailable ?? 0) < s.desiredNumberScheduled) return waiting(`${s.numberAvailable ?? 0} of ${s.desiredNumberScheduled} updated pods are available`);
      return { done: true, failed: false, message: 'successfully rolled out' };
    }
  }
}
