/**
 * A strict stand-in for a Kubernetes API server, written from the API reference, for the
 * resources Rotor touches: core/v1 Secrets, apps/v1 Deployments, StatefulSets and
 * DaemonSets, external-secrets.io/v1beta1 ExternalSecrets (with a controller that syncs
 * them) and authorization.k8s.io/v1 SelfSubjectAccessReviews. No API server can run here;
 * this one answers as the real one does where Rotor can tell the difference:
 *
 * - bearer-token authentication (401), and authorization by a small RBAC table of
 *   Role-style rules per user (403 with the real message, and SelfSubjectAccessReview
 *   answering from the same table);
 * - errors as `Status` objects with the real reasons, messages and details;
 * - `metadata.resourceVersion` optimistic concurrency on PUT and PATCH (409 Conflict);
 * - PATCH as `application/merge-patch+json` or `application/strategic-merge-patch+json`
 *   (the same on the maps these resources hold; lists are replaced, as they are for fields
 *   without a patch strategy); JSON Patch is answered 415 as this double does not do it;
 * - workloads whose pod template changes get a new `generation` and roll out over a few
 *   ticks through the status fields `kubectl rollout status` reads; a rollout can be told to
 *   stall or fail (a Deployment's ProgressDeadlineExceeded);
 * - ExternalSecrets: when the `force-sync` annotation changes, after a delay, the
 *   controller copies values from a source the test supplies into the target Secret.
 *
 * @example
 * const kube = await KubeDouble.start();
 * kube.addSecret('apps', 'api', { OTHER: 'kept' });
 * writeFileSync(kubeconfigPath, kube.kubeconfig());
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface RbacRule {
  verbs: string[];
  /** API groups: '' for core. '*' matches all. */
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  /** Namespaces the rule holds in (a RoleBinding's); omitted: every namespace (a ClusterRoleBinding). */
  namespaces?: string[];
}

export type WorkloadKind = 'deployments' | 'statefulsets' | 'daemonsets';
export type RolloutMode = 'ok' | 'stall' | 'fail';
export interface RemoteRef { key: string; property?: string }
/** What the stand-in for External Secrets Operator reads: undefined when the provider has no such secret. */
export type ExternalSource = (ref: RemoteRef) => string | undefined | Promise<string | undefined>;

interface Attributes { verb: string; group: string; resource: string; namespace: string; name?: string }
interface Request { method: string; path: string; user: string; status: number; contentType?: string }

const ALL: RbacRule = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
const KINDS: Record<string, { kind: string; group: string; version: string }> = {
  secrets: { kind: 'Secret', group: '', version: 'v1' },
  deployments: { kind: 'Deployment', group: 'apps', version: 'v1' },
  statefulsets: { kind: 'StatefulSet', group: 'apps', version: 'v1' },
  daemonsets: { kind: 'DaemonSet', group: 'apps', version: 'v1' },
  externalsecrets: { kind: 'ExternalSecret', group: 'external-secrets.io', version: 'v1beta1' },
};
const KEY_RE = /^[-._a-zA-Z0-9]+$/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Obj) {
    super(message);
  }
}

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T extends Json>(v: T): T => structuredClone(v);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** RFC 7386 JSON Merge Patch: objects merge, null removes, anything else replaces. */
function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function meta(o: Obj): Obj {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Obj;
}

export class KubeDouble {
  readonly requests: Request[] = [];
  /** Every `restartedAt` a workload was given, by `kind/namespace/name`. */
  readonly restartLog = new Map<string, string[]>();
  private readonly objects = new Map<string, Obj>();
  private readonly users = new Map<string, { name: string; rules: RbacRule[] }>();
  private readonly rollout = new Map<string, { mode: RolloutMode; replicas: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly interference = new Map<string, number>();
  private rv = 100;
  /** The controller's sync delay after a force-sync; null: it never syncs. */
  externalSecretDelayMs: number | null = 300;
  source: ExternalSource = () => undefined;
  rolloutStepMs = 60;
  /**
   * The kubelet's part, for tests that run a real service as the workload: called when a
   * `rollout restart` starts new pods; the rollout progresses once it resolves (the new pod
   * is ready) and fails when it rejects (the new pod never becomes ready).
   */
  onRestart?: (kind: WorkloadKind, namespace: string, name: string) => Promise<void>;

  private constructor(private readonly server: Server, readonly url: string, readonly token: string) {}

  /** `tls`: serve HTTPS with this key and certificate (PEM), as an in-cluster API server does. */
  static async start(opts: { source?: ExternalSource; tls?: { key: string; cert: string } } = {}): Promise<KubeDouble> {
    const ref: { self?: KubeDouble } = {};
    const handler = (req: IncomingMessage, res: ServerResponse) => void ref.self?.handle(req, res);
    const server = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const self = (ref.self = new KubeDouble(server, `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`, `admin-${randomUUID()}`));
    self.addUser(self.token, 'kubernetes-admin', [ALL]);
    if (opts.source) self.source = opts.source;
    return self;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** A token for `name`, allowed exactly `rules`. */
  addUser(token: string, name: string, rules: RbacRule[]): void {
    this.users.set(token, { name, rules });
  }

  /** A kubeconfig for `token` (the admin's by default). The double speaks plain HTTP on loopback. */
  kubeconfig(token = this.token, context = 'double'): string {
    return [
      'apiVersion: v1', 'kind: Config', `current-context: ${context}`,
      'clusters:', `- name: double`, `  cluster: { server: "${this.url}", insecure-skip-tls-verify: true }`,
      'users:', `- name: u-${context}`, `  user: { token: "${token}" }`,
      'contexts:', `- name: ${context}`, `  context: { cluster: double, user: u-${context} }`, '',
    ].join('\n');
  }

  addSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.put('secrets', namespace, name, {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name, namespace },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    });
  }

  /** The Secret's data decoded, or undefined when there is no such Secret. */
  secretData(namespace: string, name: string): Record<string, string> | undefined {
    const o = this.objects.get(this.key('secrets', namespace, name));
    if (!o) return undefined;
    const data = isObj(o.data) ? o.data : {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));
  }

  secretObject(namespace: string, name: string): Obj | undefined {
    const o = this.objects.get(this.key('secrets', namespace, name));
    return o && clone(o);
  }

  /** The next `times` writes to this Secret find it changed by another writer first (a new key, a new resourceVersion). */
  interfere(namespace: string, name: string, times: number): void {
    this.interference.set(this.key('secrets', namespace, name), times);
  }

  addWorkload(kind: WorkloadKind, namespace: string, name: string, opts: { replicas?: number; mode?: RolloutMode } = {}): void {
    const replicas = opts.replicas ?? 2;
    const k = this.key(kind, namespace, name);
    this.rollout.set(k, { mode: opts.mode ?? 'ok', replicas });
    const spec: Obj = {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      updateStrategy: { type: 'RollingUpdate' },
    };
    if (kind === 'deployments') {
      delete spec.updateStrategy;
      spec.strategy = { type: 'RollingUpdate' };
    }
    if (kind !== 'daemonsets') spec.replicas = replicas;
    const { kind: K, group, version } = KINDS[kind]!;
    this.put(kind, namespace, name, { apiVersion: `${group}/${version}`, kind: K, metadata: { name, namespace, generation: 1 }, spec });
    this.setStatus(k, 1, replicas, replicas, 'done');
  }

  setRolloutMode(kind: WorkloadKind, namespace: string, name: string, mode: RolloutMode): void {
    const r = this.rollout.get(this.key(kind, namespace, name));
    if (r) r.mode = mode;
  }

  restarts(kind: WorkloadKind, namespace: string, name: string): number {
    return this.restartLog.get(this.key(kind, namespace, name))?.length ?? 0;
  }

  addExternalSecret(namespace: string, name: string, spec: { target?: string; data?: { secretKey: string; remoteRef: RemoteRef }[]; dataFrom?: { extract: RemoteRef }[] }): void {
    this.put('externalsecrets', namespace, name, {
      apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret',
      metadata: { name, namespace, generation: 1 },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: 'aws' },
        target: { name: spec.target ?? name, creationPolicy: 'Owner' },
        ...(spec.data ? { data: spec.data.map((d) => ({ secretKey: d.secretKey, remoteRef: { ...d.remoteRef } })) } : {}),
        ...(spec.dataFrom ? { dataFrom: spec.dataFrom.map((d) => ({ extract: { ...d.extract } })) } : {}),
      },
      status: {},
    });
  }

  /** Runs the controller's sync now, as a refreshInterval would. */
  syncExternalSecret(namespace: string, name: string): Promise<void> {
    return this.sync(this.key('externalsecrets', namespace, name));
  }

  // ——— the server ———

  private key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  private put(resource: string, namespace: string, name: string, o: Obj): void {
    const m = meta(o);
    m.uid ??= randomUUID();
    m.creationTimestamp ??= new Date().toISOString();
    m.resourceVersion = String(++this.rv);
    this.objects.set(this.key(resource, namespace, name), o);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const entry: Request = { method: req.method ?? 'GET', path: url.pathname, user: '', status: 0, contentType: req.headers['content-type'] };
    this.requests.push(entry);
    const send = (code: number, body: Obj) => {
      entry.status = code;
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      const user = auth ? this.users.get(auth[1]!) : undefined;
      if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      entry.user = user.name;
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Json = null;
      if (raw) {
        try {
          body = JSON.parse(raw) as Json;
        } catch {
          throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format');
        }
      }
      const [code, out] = await this.route(entry.method, url.pathname, req.headers['content-type'] ?? '', body, user);
      send(code, out);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
      send(e.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, ...(e.details ? { details: e.details } : {}), code: e.code });
    }
  }

  private allowed(user: { rules: RbacRule[] }, a: Attributes): boolean {
    const has = (list: string[] | undefined, v: string) => list === undefined || list.includes('*') || list.includes(v);
    return user.rules.some((r) =>
      has(r.verbs, a.verb) && has(r.apiGroups, a.group) && has(r.resources, a.resource) && has(r.namespaces, a.namespace)
      // A rule naming resources never covers a request without a name (create, list).
      && (r.resourceNames === undefined || (a.name !== undefined && r.resourceNames.includes(a.name))));
  }

  private async route(method: string, path: string, contentType: string, body: Json, user: { name: string; rules: RbacRule[] }): Promise<[number, Obj]> {
    if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') return this.review(body, user);
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    const def = m ? KINDS[m[4]!] : undefined;
    if (!m || !def || (m[1] ?? '') !== def.group || (m[2] ?? 'v1') !== def.version) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const [, , , namespace, resource, name] = m as unknown as [string, string, string, string, string, string | undefined];
    const verb = name === undefined ? ({ POST: 'create', GET: 'list' } as Record<string, string>)[method] : ({ GET: 'get', PUT: 'update', PATCH: 'patch' } as Record<string, string>)[method];
    if (!verb || (verb === 'list')) throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    const what = { verb, group: def.group, resource, namespace, name };
    if (!this.allowed(user, what)) {
      const subject = name === undefined ? resource : `${resource} "${name}"`;
      throw new ApiError(403, 'Forbidden', `${subject} is forbidden: User "${user.name}" cannot ${verb} resource "${resource}" in API group "${def.group}" in the namespace "${namespace}"`,
        { ...(name ? { name } : {}), ...(def.group ? { group: def.group } : {}), kind: resource });
    }
    const details = (n: string): Obj => ({ name: n, ...(def.group ? { group: def.group } : {}), kind: resource });
    if (verb === 'create') return [201, this.create(resource, namespace, body, details)];
    const k = this.key(resource, namespace, name!);
    const current = this.objects.get(k);
    if (!current) throw new ApiError(404, 'NotFound', `${resource}${def.group ? `.${def.group}` : ''} "${name}" not found`, details(name!));
    if (verb === 'get') return [200, clone(current)];
    this.competingWrite(k, current);
    if (!isObj(body)) throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format');
    let next: Obj;
    if (verb === 'update') {
      next = clone(body);
      if (meta(next).resourceVersion === undefined) throw new ApiError(422, 'Invalid', `${def.kind} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`, details(name!));
    } else {
      if (!/^application\/(merge-patch|strategic-merge-patch)\+json/.test(contentType)) {
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`);
      }
      next = mergePatch(current, body) as Obj;
    }
    return [200, this.write(resource, k, current, next, meta(body).resourceVersion, details(name!))];
  }

  private create(resource: string, namespace: string, body: Json, details: (n: string) => Obj): Obj {
    if (!isObj(body)) throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format');
    const o = clone(body);
    const m = meta(o);
    const name = typeof m.name === 'string' ? m.name : '';
    if (!name) throw new ApiError(422, 'Invalid', `${KINDS[resource]!.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (m.namespace !== undefined && m.namespace !== namespace) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (this.objects.has(this.key(resource, namespace, name))) throw new ApiError(409, 'AlreadyExists', `${resource} "${name}" already exists`, details(name));
    if (m.resourceVersion !== undefined) throw new ApiError(400, 'BadRequest', 'resourceVersion should not be set on objects to be created');
    m.namespace = namespace;
    if (resource === 'secrets') {
      o.type ??= 'Opaque';
      this.validateSecret(o, name);
    }
    this.put(resource, namespace, name, o);
    return clone(o);
  }

  /** What `interfere` asked for: another writer gets in just before this write. */
  private competingWrite(k: string, current: Obj): void {
    const left = this.interference.get(k) ?? 0;
    if (left <= 0) return;
    this.interference.set(k, left - 1);
    const data = isObj(current.data) ? current.data : (current.data = {});
    data[`other-writer-${left}`] = b64('written by someone else');
    meta(current).resourceVersion = String(++this.rv);
  }

  private write(resource: string, k: string, current: Obj, next: Obj, sentRv: Json | undefined, details: Obj): Obj {
    const cm = meta(current);
    if (sentRv !== undefined && sentRv !== cm.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource}${details.group ? `.${String(details.group)}` : ''} "${String(details.name)}": the object has been modified; please apply your changes to the latest version and try again`, details);
    }
    const nm = meta(next);
    // Identity and bookkeeping are the server's; status belongs to the status subresource.
    for (const f of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation'] as const) {
      if (cm[f] === undefined) delete nm[f];
      else nm[f] = cm[f]!;
    }
    if (resource !== 'secrets') next.status = clone(current.status ?? {});
    else this.validateSecret(next, String(cm.name));
    const specChanged = JSON.stringify(current.spec ?? null) !== JSON.stringify(next.spec ?? null);
    if (specChanged && typeof cm.generation === 'number') nm.generation = cm.generation + 1;
    const forceBefore = isObj(cm.annotations) ? cm.annotations['force-sync'] : undefined;
    nm.resourceVersion = String(++this.rv);
    this.objects.set(k, next);
    if (resource in { deployments: 1, statefulsets: 1, daemonsets: 1 } && specChanged) this.startRollout(k, current, next);
    if (resource === 'externalsecrets') {
      const forceAfter = isObj(nm.annotations) ? nm.annotations['force-sync'] : undefined;
      if (forceAfter !== forceBefore || specChanged) this.scheduleSync(k);
    }
    return clone(next);
  }

  private validateSecret(o: Obj, name: string): void {
    const data = o.data ?? {};
    if (!isObj(data)) throw new ApiError(400, 'BadRequest', 'Secret in version "v1" cannot be handled as a Secret: data must be an object');
    for (const [key, v] of Object.entries(data)) {
      if (!KEY_RE.test(key)) throw new ApiError(422, 'Invalid', `Secret "${name}" is invalid: data[${key}]: Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
      if (typeof v !== 'string' || !B64_RE.test(v)) throw new ApiError(400, 'BadRequest', `Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data[${key}]`);
    }
  }

  private review(body: Json, user: { rules: RbacRule[] }): [number, Obj] {
    const spec = isObj(body) && isObj(body.spec) ? body.spec : undefined;
    const ra = spec && isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    if (!isObj(body) || body.kind !== 'SelfSubjectAccessReview' || !ra) {
      throw new ApiError(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    }
    const str = (v: Json | undefined) => (typeof v === 'string' ? v : '');
    const allowed = this.allowed(user, { verb: str(ra.verb), group: str(ra.group), resource: str(ra.resource), namespace: str(ra.namespace), name: str(ra.name) || undefined });
    return [201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, spec: clone(spec!), status: allowed ? { allowed: true, reason: 'RBAC: allowed by the double\'s table' } : { allowed: false } }];
  }

  // ——— workloads ———

  private startRollout(k: string, before: Obj, after: Obj): void {
    const annotations = (o: Obj) => {
      const t = isObj(o.spec) && isObj(o.spec.template) && isObj(o.spec.template.metadata) ? o.spec.template.metadata.annotations : undefined;
      return isObj(t) ? t : {};
    };
    const at = annotations(after)['kubectl.kubernetes.io/restartedAt'];
    const restarted = typeof at === 'string' && at !== annotations(before)['kubectl.kubernetes.io/restartedAt'];
    if (restarted) this.restartLog.set(k, [...(this.restartLog.get(k) ?? []), at]);
    const r = this.rollout.get(k) ?? { mode: 'ok' as const, replicas: 1 };
    const generation = meta(after).generation as number;
    const stallAt = Math.floor(r.replicas / 2);
    let updated = -1;
    const tick = () => {
      const o = this.objects.get(k);
      if (!o || meta(o).generation !== generation) return; // a newer rollout took over
      updated++;
      if (r.mode !== 'ok' && updated > stallAt) {
        if (r.mode === 'fail') this.setStatus(k, generation, r.replicas, stallAt, 'failed');
        return;
      }
      this.setStatus(k, generation, r.replicas, Math.min(updated, r.replicas), updated > r.replicas ? 'done' : 'progressing');
      if (updated <= r.replicas) this.later(tick, this.rolloutStepMs);
    };
    const [resource, namespace, name] = k.split('/') as [WorkloadKind, string, string];
    if (!restarted || !this.onRestart) {
      this.later(tick, this.rolloutStepMs);
      return;
    }
    this.onRestart(resource, namespace, name).then(
      () => this.later(tick, this.rolloutStepMs),
      () => this.setStatus(k, generation, r.replicas, 0, 'failed'),
    );
  }

  /** Writes the status fields of each workload kind as its controller does. */
  private setStatus(k: string, generation: number, replicas: number, updated: number, phase: 'progressing' | 'done' | 'failed'): void {
    const o = this.objects.get(k);
    if (!o) return;
    const resource = k.split('/')[0];
    const done = phase === 'done';
    const now = new Date().toISOString();
    if (resource === 'deployments') {
      const progressing = phase === 'failed'
        ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet has timed out progressing.', lastUpdateTime: now, lastTransitionTime: now }
        : { type: 'Progressing', status: 'True', reason: done ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: 'progressing', lastUpdateTime: now, lastTransitionTime: now };
      o.status = {
        observedGeneration: generation, replicas: done ? replicas : replicas + 1, updatedReplicas: updated,
        readyReplicas: replicas, availableReplicas: replicas, unavailableReplicas: 0,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok', lastUpdateTime: now, lastTransitionTime: now }, progressing],
      };
    } else if (resource === 'statefulsets') {
      o.status = {
        observedGeneration: generation, replicas, updatedReplicas: updated, currentReplicas: replicas - updated,
        readyReplicas: done ? replicas : replicas - 1, availableReplicas: done ? replicas : replicas - 1,
        currentRevision: done ? `${k.split('/')[2]}-${generation}` : `${k.split('/')[2]}-${generation - 1}`, updateRevision: `${k.split('/')[2]}-${generation}`,
      };
    } else {
      o.status = {
        observedGeneration: generation, desiredNumberScheduled: replicas, currentNumberScheduled: replicas, numberMisscheduled: 0,
        updatedNumberScheduled: updated, numberReady: done ? replicas : replicas - 1, numberAvailable: done ? replicas : replicas - 1,
      };
    }
    meta(o).resourceVersion = String(++this.rv);
  }

  // ——— External Secrets ———

  private scheduleSync(k: string): void {
    if (this.externalSecretDelayMs === null) return;
    this.later(() => void this.sync(k), this.externalSecretDelayMs);
  }

  private async sync(k: string): Promise<void> {
    const es = this.objects.get(k);
    if (!es || !isObj(es.spec)) return;
    const [, namespace] = k.split('/') as [string, string, string];
    const spec = es.spec;
    const target = isObj(spec.target) && typeof spec.target.name === 'string' ? spec.target.name : String(meta(es).name);
    const values: Record<string, string> = {};
    let missing: string | undefined;
    const refOf = (r: Json | undefined): RemoteRef => (isObj(r) ? { key: String(r.key), ...(typeof r.property === 'string' ? { property: r.property } : {}) } : { key: '' });
    for (const d of Array.isArray(spec.data) ? spec.data : []) {
      if (!isObj(d)) continue;
      const ref = refOf(d.remoteRef);
      const v = await this.source(ref);
      if (v === undefined) missing ??= ref.key;
      else values[String(d.secretKey)] = v;
    }
    for (const d of Array.isArray(spec.dataFrom) ? spec.dataFrom : []) {
      const ref = refOf(isObj(d) ? d.extract : undefined);
      const v = await this.source(ref);
      if (v === undefined) missing ??= ref.key;
      else for (const [key, val] of Object.entries(JSON.parse(v) as Record<string, unknown>)) values[key] = typeof val === 'string' ? val : JSON.stringify(val);
    }
    const now = new Date().toISOString();
    if (missing !== undefined) {
      es.status = { ...(isObj(es.status) ? es.status : {}), conditions: [{ type: 'Ready', status: 'False', reason: 'SecretSyncedError', message: 'could not get secret data from provider', lastTransitionTime: now }] };
      return;
    }
    const sk = this.key('secrets', namespace, target);
    const secret = this.objects.get(sk);
    const data = Object.fromEntries(Object.entries(values).map(([key, v]) => [key, b64(v)]));
    if (secret) {
      secret.data = { ...(isObj(secret.data) ? secret.data : {}), ...data };
      meta(secret).resourceVersion = String(++this.rv);
    } else {
      this.put('secrets', namespace, target, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: target, namespace, labels: { 'reconcile.external-secrets.io/created-by': 'double' } }, data });
    }
    es.status = { refreshTime: now, syncedResourceVersion: `${String(meta(es).generation)}-${String(meta(es).resourceVersion)}`, conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'Secret was synced', lastTransitionTime: now }] };
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
