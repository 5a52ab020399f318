/**
 * Rotor in a pod: with no kubeconfig anywhere, it finds the API server through
 * KUBERNETES_SERVICE_HOST/PORT and authenticates with the pod's service-account token,
 * trusting the cluster CA — both read from /var/run/secrets/kubernetes.io/serviceaccount,
 * where the kubelet mounts them. The test gives the rotor process its own mount namespace
 * (unshare, root only) with those files on a private tmpfs, and an HTTPS API server double.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeDouble } from '../helpers/kube-double.js';
import { BIN, Sandbox, type Result } from '../helpers/sandbox.js';

/** Why this test cannot run here: it needs to make a mount namespace. */
function unshareMissing(): string | undefined {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']);
  return r.status === 0 ? undefined : `unshare --mount is not permitted here (${r.error?.message ?? r.stderr.toString().trim()}): it needs root`;
}
const missing = unshareMissing();
if (missing) console.warn(`skipping the in-cluster test: ${missing}`);

describe.skipIf(missing)('in-cluster service-account auth', () => {
  let kube: KubeDouble;
  let sb: Sandbox;
  const SA_TOKEN = `sa-token-${Date.now()}`;
  beforeAll(async () => {
    sb = new Sandbox(`version: 1
stores:
  k8s: { type: kubernetes, namespace: apps, name: api-secrets }
consumers:
  api:
    deliver: [{ store: k8s, key: API_TOKEN }]
    reload: [{ rolloutRestart: { namespace: apps, statefulset: api } }]
    health: [{ rolloutStatus: { namespace: apps, statefulset: api }, timeout: 10s }]
secrets:
  - { id: app/token, type: random, length: 24, encoding: alnum, consumers: [api] }
`);
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=kubernetes',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', sb.path('apiserver.key'), '-out', sb.path('apiserver.crt')]);
    expect(openssl.status, openssl.stderr.toString()).toBe(0);
    kube = await KubeDouble.start({ tls: { key: readFileSync(sb.path('apiserver.key'), 'utf8'), cert: readFileSync(sb.path('apiserver.crt'), 'utf8') } });
    kube.addUser(SA_TOKEN, 'system:serviceaccount:apps:rotor', [
      { verbs: ['get', 'patch', 'create'], apiGroups: [''], resources: ['secrets'], namespaces: ['apps'] },
      { verbs: ['get', 'patch'], apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: ['api'], namespaces: ['apps'] },
    ]);
    kube.addWorkload('statefulsets', 'apps', 'api', { replicas: 3 });
    mkdirSync(sb.path('sa'));
    writeFileSync(sb.path('sa/token'), SA_TOKEN);
    writeFileSync(sb.path('sa/ca.crt'), readFileSync(sb.path('apiserver.crt')));
    writeFileSync(sb.path('sa/namespace'), 'apps');
  });
  afterAll(async () => {
    await kube?.stop();
    sb?.remove();
  });

  /** Runs rotor as a pod would: the service account mounted where the kubelet puts it, no kubeconfig. */
  function inPod(args: string[]): Promise<Result> {
    const script = 'mount -t tmpfs tmpfs /var/run && mkdir -p /var/run/secrets/kubernetes.io/serviceaccount '
      + '&& cp "$SA_DIR"/* /var/run/secrets/kubernetes.io/serviceaccount/ && exec "$NODE" "$ROTOR" "$@"';
    const port = new URL(kube.url).port;
    const env = sb.env({
      KUBECONFIG: undefined, HOME: sb.dir, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port,
      SA_DIR: sb.path('sa'), NODE: process.execPath, ROTOR: BIN,
    });
    return new Promise((done) => {
      const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args], { cwd: sb.dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
    });
  }

  it('delivers, restarts the StatefulSet and waits for it as the pod\'s service account', async () => {
    await sb.ok(['init']);
    const r = await inPod(['rotate', 'app/token']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const value = (await sb.ok(['get', 'app/token'])).stdout.trim();
    expect(kube.secretData('apps', 'api-secrets')).toEqual({ API_TOKEN: value });
    expect(kube.restarts('statefulsets', 'apps', 'api')).toBe(1);
    const users = new Set(kube.requests.map((q) => q.user));
    expect([...users]).toEqual(['system:serviceaccount:apps:rotor']);
  });

  it('a service account without the permission is refused at preflight (exit 2), naming verb and resource', async () => {
    kube.addUser(SA_TOKEN, 'system:serviceaccount:apps:rotor', [
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], namespaces: ['apps'] },
      { verbs: ['get', 'patch'], apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: ['api'], namespaces: ['apps'] },
    ]);
    const before = kube.secretData('apps', 'api-secrets');
    const r = await inPod(['rotate', 'app/token']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/the pod's service account \(https:\/\/127\.0\.0\.1:\d+\) may not patch secrets "api-secrets" in namespace apps[\s\S]*resources: \["secrets"\], verbs: \["patch"\]/);
    expect(kube.secretData('apps', 'api-secrets')).toEqual(before);
  });
});
