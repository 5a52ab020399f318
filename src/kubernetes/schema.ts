/**
 * The config fields every Kubernetes delivery target, reload and health kind shares: which
 * cluster (a kubeconfig and its context; without them KUBECONFIG, then the pod's service
 * account, then ~/.kube/config) and which object. Kept apart from the client (api.ts) so
 * loading rotor.yaml never loads @kubernetes/client-node.
 */
import { z } from 'zod';
import { pathSchema } from '../config/common.js';

/** A DNS-1123 name or label, as the API server requires of namespaces and object names. */
export const objectName = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes name: lowercase letters, digits, - and .');

export const connectionFields = {
  kubeconfig: pathSchema.optional().describe('a kubeconfig file, relative to rotor.yaml (default: KUBECONFIG, the in-cluster service account, ~/.kube/config)'),
  context: z.string().min(1).max(253).optional().describe("the kubeconfig's context to use (default: its current-context)"),
};

export interface KubeConnection {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export type WorkloadKind = 'deployment' | 'statefulset' | 'daemonset';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['deployment', 'statefulset', 'daemonset'];

/** `{ namespace, deployment | statefulset | daemonset }`: exactly one workload. */
export const workloadSchema = z
  .strictObject({
    namespace: objectName,
    deployment: objectName.optional(),
    statefulset: objectName.optional(),
    daemonset: objectName.optional(),
    ...connectionFields,
  })
  .refine((w) => WORKLOAD_KINDS.filter((k) => w[k] !== undefined).length === 1, 'name exactly one of deployment, statefulset or daemonset');

export type WorkloadRef = z.infer<typeof workloadSchema>;

/** The one workload a ref names. */
export function workloadOf(ref: WorkloadRef): { kind: WorkloadKind; name: string } {
  for (const kind of WORKLOAD_KINDS) {
    const name = ref[kind];
    if (name !== undefined) return { kind, name };
  }
  throw new Error('a workload step names no workload'); // the schema refuses it first
}
