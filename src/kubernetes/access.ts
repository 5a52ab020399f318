/**
 * Preflight for Kubernetes: asks the API server, with SelfSubjectAccessReview, whether the
 * identity Rotor uses may do each thing a step will do, so a missing permission stops the
 * run at `rotor plan` or before `create` — not halfway through propagate.
 */
import { RotorError } from '../errors.js';
import { kubeError, type Kube } from './api.js';

export interface Access {
  verb: string;
  /** '' for the core group. */
  group: string;
  resource: string;
  namespace: string;
  name?: string;
}

/** The identity may not do what a configured step needs. Nothing was changed. */
export class KubeAccessError extends RotorError {
  constructor(readonly missing: Access[], where: string, purpose: string) {
    const first = missing[0]!;
    const list = missing.map((a) => `${a.verb} ${a.resource}${a.group ? `.${a.group}` : ''}${a.name ? ` "${a.name}"` : ''}`).join(', ');
    const rules = missing.map((a) => `{ apiGroups: ["${a.group}"], resources: ["${a.resource}"], verbs: ["${a.verb}"] }`);
    super(`the identity of ${where} may not ${list} in namespace ${first.namespace} (needed to ${purpose})`, {
      outcome: 'usage',
      hint: `grant it in a Role in namespace ${first.namespace} bound to that identity: ${[...new Set(rules)].join(', ')}; nothing was changed`,
    });
  }
}

/** Throws KubeAccessError naming every access in `needs` the server says is not allowed. */
export async function requireAccess(kube: Kube, needs: Access[], purpose: string): Promise<void> {
  const answers = await Promise.all(needs.map(async (a) => {
    try {
      const review = await kube.authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, namespace: a.namespace, ...(a.name ? { name: a.name } : {}) } },
        },
      });
      return review.status?.allowed === true;
    } catch (err) {
      throw kubeError(err, 'ask the API server what Rotor may do (create selfsubjectaccessreviews)', kube);
    }
  }));
  const missing = needs.filter((_, i) => !answers[i]);
  if (missing.length) throw new KubeAccessError(missing, kube.where, purpose);
}
