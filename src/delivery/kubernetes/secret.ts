/**
 * Writes keys of one Secret. A write reads the Secret, then merge-patches only the keys
 * assigned with the `resourceVersion` it read: if anyone changed the Secret in between, the
 * server answers 409 and the write starts again from a fresh read, so another writer's keys
 * are never overwritten with stale copies. A missing Secret is created.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { connect, codeOf, kubeError, mergePatch, type Kube } from '../../kubernetes/api.js';
import { requireAccess } from '../../kubernetes/access.js';
import { ROTOR_VERSION } from '../../version.js';
import type { Assignment, DeliveryTarget } from '../types.js';
import type { KubernetesTargetConfig } from './index.js';

/** Attempts of one write when other writers keep winning the race. */
const MAX_ATTEMPTS = 5;
const LABELS = { 'app.kubernetes.io/managed-by': 'rotor', 'rotor.dev/version': ROTOR_VERSION };

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export function openSecretTarget(config: KubernetesTargetConfig): DeliveryTarget {
  const kube = connect(config, '.');
  const { namespace, name } = config;
  const location = `Secret ${namespace}/${name}`;
  return {
    location,
    async assign({ assignments }) {
      const want = dataOf(assignments);
      for (let attempt = 1; ; attempt++) {
        const current = await readSecret(kube, config);
        const data = current?.data ?? {};
        const labels = current?.metadata?.labels ?? {};
        const same = Object.entries(want).every(([k, v]) => data[k] === v) && Object.entries(LABELS).every(([k, v]) => labels[k] === v);
        if (current && same) return { changed: false };
        try {
          if (!current) {
            await kube.core.createNamespacedSecret({ namespace, body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, labels: LABELS }, data: want } });
          } else {
            await kube.core.patchNamespacedSecret({ name, namespace, body: { metadata: { resourceVersion: current.metadata?.resourceVersion, labels: LABELS }, data: want } }, mergePatch);
          }
          return { changed: true };
        } catch (err) {
          // 409: Conflict (changed since read) or AlreadyExists (created since read).
          if (codeOf(err) === 409 && attempt < MAX_ATTEMPTS) continue;
          throw kubeError(err, `${current ? 'patch' : 'create'} ${location}${codeOf(err) === 409 ? ` (changed by another writer ${attempt} times in a row)` : ''}`, kube);
        }
      }
    },
    async read(key) {
      try {
        const v = (await readSecret(kube, config))?.data?.[key];
        return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** The last assignment of a key wins, as in a file. */
function dataOf(assignments: Assignment[]): Record<string, string> {
  return Object.fromEntries(assignments.map((a) => [a.key, b64(a.value)]));
}

async function readSecret(kube: Kube, { namespace, name }: KubernetesTargetConfig): Promise<V1Secret | undefined> {
  try {
    return await kube.core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (codeOf(err) === 404) return undefined;
    throw kubeError(err, `read Secret ${namespace}/${name}`, kube);
  }
}

/** Preflight: get and patch the Secret, and create it when it does not exist yet. */
export async function checkSecretAccess(config: KubernetesTargetConfig): Promise<void> {
  const kube = connect(config, '.');
  const { namespace, name } = config;
  const purpose = `deliver into Secret ${namespace}/${name}`;
  await requireAccess(kube, [{ verb: 'get', group: '', resource: 'secrets', namespace, name }, { verb: 'patch', group: '', resource: 'secrets', namespace, name }], purpose);
  if (!(await readSecret(kube, config))) await requireAccess(kube, [{ verb: 'create', group: '', resource: 'secrets', namespace }], `create Secret ${namespace}/${name}`);
}
