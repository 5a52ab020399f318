/**
 * `stores: { k8s: { type: kubernetes, namespace, name, kubeconfig?, context? } }`: a
 * Kubernetes Secret as a delivery target. Each delivery's `key` is a key of the Secret's
 * `data`; other keys are left as they are. The client loads only when a Secret is written.
 *
 * @example
 * stores:
 *   api-secret: { type: kubernetes, namespace: apps, name: api-db }
 * consumers:
 *   api:
 *     deliver: [{ store: api-secret, key: DB_PASSWORD, field: password }]
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { connectionFields, objectName } from '../../kubernetes/schema.js';
import type { DeliveryTargetDefinition } from '../types.js';

export const kubernetesTargetSchema = z
  .strictObject({
    type: z.literal('kubernetes'),
    namespace: objectName.describe("the Secret's namespace"),
    name: objectName.describe("the Secret's name (created when missing)"),
    ...connectionFields,
  })
  .describe('kubernetes: a delivery target, keys of a Secret object');
export type KubernetesTargetConfig = z.infer<typeof kubernetesTargetSchema>;

export const kubernetesTarget = {
  type: 'kubernetes',
  summary: 'keys of a Kubernetes Secret, patched with optimistic concurrency',
  noun: 'a Kubernetes Secret',
  schema: kubernetesTargetSchema,
  keyProblems: (keys) => keys.flatMap((key) => (/^[-._a-zA-Z0-9]{1,253}$/.test(key)
    ? []
    : [{ key, message: `"${key}" is not a valid key of a Secret's data: letters, digits, - _ . (at most 253)` }])),
  withPaths: (config, dir) => (config.kubeconfig === undefined ? config : { ...config, kubeconfig: resolve(dir, config.kubeconfig) }),
  async open(config) {
    return (await import('./secret.js')).openSecretTarget(config);
  },
  async preflight(config) {
    await (await import('./secret.js')).checkSecretAccess(config);
  },
} satisfies DeliveryTargetDefinition<KubernetesTargetConfig>;
