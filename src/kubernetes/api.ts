/**
 * Rotor's one door to the Kubernetes API, on the official client (@kubernetes/client-node):
 * which cluster and credentials (connect), and what an API error means to the user
 * (KubeApiError). Imported only when a Kubernetes target, reload or health step runs.
 *
 * The client is pinned to 1.x: 2.x needs undici 8, which needs Node 22 (it fails to load
 * on Node 20), and Rotor supports Node 20.
 */
import { resolve } from 'node:path';
import {
  ApiException, AppsV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions,
} from '@kubernetes/client-node';
import { RotorError } from '../errors.js';
import type { KubeConnection } from './schema.js';

export interface Kube {
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  authz: AuthorizationV1Api;
  /** Which cluster and user, for messages: `context double (https://…)`. */
  where: string;
}

/** The kubeconfig, context or service account cannot be used. Nothing was sent to any cluster. */
export class KubeConfigError extends RotorError {
  constructor(message: string, hint: string, cause?: unknown) {
    super(message, { outcome: 'usage', hint, cause });
  }
}

/**
 * An API server's refusal, from its Status object: its reason and message (names of
 * objects, never their data). Forbidden and Unauthorized are usage problems — a person must
 * grant a permission or fix credentials; nothing here changed the object.
 */
export class KubeApiError extends RotorError {
  constructor(readonly code: number, readonly reason: string, message: string, hint: string | undefined, cause?: unknown) {
    super(message, { outcome: code === 401 || code === 403 ? 'usage' : 'rolled-back', hint, cause });
  }
}

/** Merge patch (RFC 7386): it works the same on Secrets, workloads and custom resources, which strategic merge does not. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The API server's address for messages: without credentials, and never a malformed value as written (it may hold a token pasted by mistake). */
function serverShown(server: string): string {
  try {
    const u = new URL(server);
    u.username = '';
    u.password = '';
    return u.origin === 'null' ? 'an API server address that is not a URL' : `${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'an API server address that is not a URL';
  }
}

/** Whether Rotor talks as the pod's service account: no kubeconfig named anywhere, and the kubelet's variables set. */
const inCluster = (file: string | undefined) => file === undefined && !process.env.KUBECONFIG && !!process.env.KUBERNETES_SERVICE_HOST;

/**
 * Opens the cluster `conn` names. The order is kubectl's, except that a pod's service
 * account comes before ~/.kube/config: in a pod, a kubeconfig baked into the image is
 * rarely the identity meant.
 */
export function connect(conn: KubeConnection, dir: string): Kube {
  const kc = new KubeConfig();
  const file = conn.kubeconfig === undefined ? undefined : resolve(dir, conn.kubeconfig);
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else if (inCluster(file)) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConfigError(`cannot load ${file ?? (process.env.KUBECONFIG ? `KUBECONFIG (${process.env.KUBECONFIG})` : 'the in-cluster service account or ~/.kube/config')}: ${loadProblem(err)}`,
      'set `kubeconfig` on the store or step, or KUBECONFIG, to a readable kubeconfig');
  }
  if (conn.context !== undefined) {
    if (!kc.getContextObject(conn.context)) throw new KubeConfigError(`the kubeconfig has no context "${conn.context}"`, `one of: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    kc.setCurrentContext(conn.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError('the kubeconfig names no cluster for its current context', 'set `context`, or current-context in the kubeconfig');
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    authz: kc.makeApiClient(AuthorizationV1Api),
    where: inCluster(file) ? `the pod's service account (${serverShown(cluster.server)})` : `${kc.getCurrentContext() ? `context ${kc.getCurrentContext()} ` : ''}(${serverShown(cluster.server)})`,
  };
}

interface Status { reason?: string; message?: string }

function statusOf(body: unknown): Status {
  let b: unknown = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return {};
    }
  }
  if (typeof b !== 'object' || b === null) return {};
  const s = b as Record<string, unknown>;
  return { reason: typeof s.reason === 'string' ? s.reason : undefined, message: typeof s.message === 'string' ? s.message : undefined };
}

/** The HTTP status of a failed call, or undefined when the server was not reached. */
export function codeOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** What a failed call means, said with `doing` ("patch Secret apps/api"). */
export function kubeError(err: unknown, doing: string, kube: Pick<Kube, 'where'>): RotorError {
  if (err instanceof RotorError) return err;
  if (!(err instanceof ApiException)) {
    const e = err as Error & { cause?: { code?: string }; code?: string };
    // The client's message quotes the request URL, credentials and all: only a code is kept.
    const code = e.cause?.code ?? e.code ?? /\b(E[A-Z]{3,}|CERT_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\b/.exec(String(e.message))?.[1] ?? e.name;
    return new KubeApiError(0, 'Unreachable', `cannot ${doing}: the API server at ${kube.where} did not answer (${code})`, 'check the cluster address and that it is reachable from here', err);
  }
  const s = statusOf(err.body);
  const text = `cannot ${doing}: ${err.code} ${s.reason ?? ''}${s.message ? ` (${s.message})` : ''}`.replace(/\s+/g, ' ').trim();
  const hint = err.code === 403
    ? 'grant the missing verb on that resource to the identity Rotor uses (README: the minimal Role)'
    : err.code === 401 ? `the credentials of ${kube.where} were refused; renew the token or fix the kubeconfig` : undefined;
  return new KubeApiError(err.code, s.reason ?? 'Unknown', `${text} at ${kube.where}`, hint, err);
}

/**
 * Why a kubeconfig did not load, without its text: a YAML error's message quotes the lines
 * around the mistake, and a kubeconfig holds tokens and keys. The reason and position only.
 */
function loadProblem(err: unknown): string {
  const e = err as { name?: string; reason?: string; mark?: { line: number; column: number }; code?: string };
  if (e.name === 'YAMLException') return `not valid YAML (${e.reason ?? 'syntax error'}${e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : ''})`;
  if (e.code) return e.code;
  // JSON.parse quotes the text around the error too.
  if (e.name === 'SyntaxError') return 'not valid JSON or YAML';
  return (err as Error).message?.split('\n')[0]?.slice(0, 120) ?? 'unreadable';
}
