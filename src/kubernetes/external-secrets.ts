/** The few calls on an ExternalSecret (external-secrets.io) and its target Secret that reload/external-secret.ts makes. */
import { codeOf, kubeError, mergePatch, type Kube } from './api.js';

export interface ExternalSecretRef { namespace: string; name: string; apiVersion: 'v1beta1' | 'v1' }

const GROUP = 'external-secrets.io';
const PLURAL = 'externalsecrets';

type Loose = Record<string, unknown>;
const field = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? (o as Loose)[k] : undefined);

async function read(kube: Kube, es: ExternalSecretRef): Promise<unknown> {
  try {
    const obj: unknown = await kube.custom.getNamespacedCustomObject({ group: GROUP, version: es.apiVersion, namespace: es.namespace, plural: PLURAL, name: es.name });
    return obj;
  } catch (err) {
    throw kubeError(err, `read ExternalSecret ${es.namespace}/${es.name}`, kube);
  }
}

/** The Secret the operator writes: `spec.target.name`, or the ExternalSecret's own name. */
export async function targetOf(kube: Kube, es: ExternalSecretRef): Promise<string> {
  const name = field(field(field(await read(kube, es), 'spec'), 'target'), 'name');
  return typeof name === 'string' && name ? name : es.name;
}

export async function forceSync(kube: Kube, es: ExternalSecretRef, mark: string): Promise<void> {
  try {
    await kube.custom.patchNamespacedCustomObject({
      group: GROUP, version: es.apiVersion, namespace: es.namespace, plural: PLURAL, name: es.name,
      body: { metadata: { annotations: { 'force-sync': mark } } },
    }, mergePatch);
  } catch (err) {
    throw kubeError(err, `annotate ExternalSecret ${es.namespace}/${es.name} with force-sync`, kube);
  }
}

/** The Secret's values decoded; none while it does not exist (the operator creates it). */
export async function secretValues(kube: Kube, namespace: string, name: string): Promise<Record<string, string>> {
  try {
    const s = await kube.core.readNamespacedSecret({ name, namespace });
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  } catch (err) {
    if (codeOf(err) === 404) return {};
    throw kubeError(err, `read Secret ${namespace}/${name}`, kube);
  }
}

/** The Ready condition as the operator last wrote it, for the timeout's message: reason and message, no data. */
export async function readyOf(kube: Kube, es: ExternalSecretRef): Promise<string> {
  try {
    const conditions = field(field(await read(kube, es), 'status'), 'conditions');
    const ready = Array.isArray(conditions) ? (conditions as unknown[]).find((c) => field(c, 'type') === 'Ready') : undefined;
    if (ready === undefined) return 'no Ready condition yet';
    const text = (k: string) => { const v = field(ready, k); return typeof v === 'string' ? v : ''; };
    return `Ready=${text('status')} ${text('reason')}${text('message') ? `: ${text('message')}` : ''}`.trim();
  } catch {
    return 'nothing (its status could not be read)';
  }
}
