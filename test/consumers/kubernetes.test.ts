/**
 * Kubernetes consumers through the real CLI, against the API server double
 * (helpers/kube-double.ts): a Secret as delivery target, rollout restart and rollout
 * status, External Secrets force-sync, and the RBAC preflight. One test runs against a
 * real cluster when ROTOR_TEST_KUBECONFIG names one.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeDouble, type RbacRule } from '../helpers/kube-double.js';
import { Sandbox } from '../helpers/sandbox.js';

let kube: KubeDouble;
const sandboxes: Sandbox[] = [];
beforeAll(async () => {
  kube = await KubeDouble.start();
});
afterAll(async () => {
  sandboxes.forEach((s) => s.remove());
  await kube.stop();
});

let n = 0;
/** A sandbox whose consumer `api` delivers a and b into Secret apps/<secret> and restarts Deployment apps/<deploy>. */
function setup(opts: { token?: string; statusTimeout?: string } = {}): { sb: Sandbox; secret: string; deploy: string } {
  n++;
  const secret = `api-secrets-${n}`;
  const deploy = `api-${n}`;
  const k = 'kubeconfig: kube.yaml';
  const sb = new Sandbox(`version: 1
stores:
  k8s: { type: kubernetes, namespace: apps, name: ${secret}, ${k} }
consumers:
  api:
    deliver:
      - { secret: app/a, store: k8s, key: A_TOKEN }
      - { secret: app/b, store: k8s, key: B_TOKEN }
    reload: [{ rolloutRestart: { namespace: apps, deployment: ${deploy}, ${k} } }]
    health: [{ rolloutStatus: { namespace: apps, deployment: ${deploy}, ${k} }, timeout: ${opts.statusTimeout ?? '5s'} }]
secrets:
  - { id: app/a, type: random, length: 24, encoding: alnum, grace: 1h, consumers: [api] }
  - { id: app/b, type: random, length: 24, encoding: alnum, grace: 1h, consumers: [api] }
`);
  sb.write('kube.yaml', kube.kubeconfig(opts.token));
  sandboxes.push(sb);
  kube.addWorkload('deployments', 'apps', deploy, { replicas: 3 });
  return { sb, secret, deploy };
}

const get = async (sb: Sandbox, id: string) => (await sb.ok(['get', id])).stdout.trim();

describe('kubernetes delivery, rollout restart and rollout status', () => {
  it('delivers into a Secret, keeps its other keys, and restarts the deployment once for two secrets', async () => {
    const { sb, secret, deploy } = setup();
    kube.addSecret('apps', secret, { OTHER: 'kept' });
    await sb.ok(['init']);
    const t = Date.now();
    const r = await sb.ok(['rotate', 'app/a', 'app/b']);
    const took = Date.now() - t;
    const data = kube.secretData('apps', secret)!;
    expect(data).toEqual({ OTHER: 'kept', A_TOKEN: await get(sb, 'app/a'), B_TOKEN: await get(sb, 'app/b') });
    expect(kube.secretObject('apps', secret)!.metadata).toMatchObject({ labels: { 'app.kubernetes.io/managed-by': 'rotor', 'rotor.dev/version': '0.1.0' } });
    expect(kube.restarts('deployments', 'apps', deploy)).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(data.A_TOKEN);
    // The patch carried the resourceVersion it read, as merge-patch.
    const writes = kube.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith(`/secrets/${secret}`));
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((q) => q.contentType === 'application/merge-patch+json')).toBe(true);
    console.log(`rotate of two secrets with restart and rollout status: ${took} ms`);
  });

  it('a key a Secret cannot hold is a config error (exit 2)', async () => {
    const { sb } = setup();
    sb.write('rotor.yaml', readFileSync(sb.path('rotor.yaml'), 'utf8').replace('key: A_TOKEN', 'key: "A/TOKEN"'));
    const r = await sb.run(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"A\/TOKEN" is not a valid key of a Secret's data/);
  });

  it('never shows a kubeconfig\'s server address as written (a pasted token), nor its credentials', async () => {
    const { sb } = setup();
    for (const server of ['not a url TOKENSECRET123', 'https://admin:TOKENSECRET123@127.0.0.1:1']) {
      sb.write('kube.yaml', kube.kubeconfig().replace(kube.url, server));
      const r = await sb.run(['plan', 'app/a']);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).not.toContain('TOKENSECRET123');
    }
  });

  it('creates a missing Secret', async () => {
    const { sb, secret } = setup();
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/a']);
    expect(kube.secretData('apps', secret)).toEqual({ A_TOKEN: await get(sb, 'app/a') });
  });

  it('retries a write that lost a race (409 Conflict) and keeps the other writer\'s keys', async () => {
    const { sb, secret } = setup();
    kube.addSecret('apps', secret, { OTHER: 'kept' });
    kube.interfere('apps', secret, 2);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/a']);
    const data = kube.secretData('apps', secret)!;
    expect(data.A_TOKEN).toBe(await get(sb, 'app/a'));
    expect(data).toMatchObject({ OTHER: 'kept', 'other-writer-1': 'written by someone else', 'other-writer-2': 'written by someone else' });
    const conflicts = kube.requests.filter((q) => q.status === 409 && q.path.endsWith(`/secrets/${secret}`));
    expect(conflicts).toHaveLength(2);
  });

  it('refuses at plan and rotate (exit 2), naming the verb and resource, when RBAC lacks a permission; nothing changes', async () => {
    const token = `limited-${Date.now()}`;
    const rules: RbacRule[] = [
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'], namespaces: ['apps'] },
      { verbs: ['get', 'patch'], apiGroups: ['apps'], resources: ['deployments'], namespaces: ['apps'] },
    ];
    kube.addUser(token, 'system:serviceaccount:rotor:rotor', rules);
    const { sb, secret, deploy } = setup({ token });
    kube.addSecret('apps', secret, { A_TOKEN: 'before' });
    await sb.ok(['init']);
    const plan = await sb.run(['plan', 'app/a']);
    expect(plan.code).toBe(2);
    expect(plan.stdout + plan.stderr).toMatch(/consumer api: .*may not patch secrets "api-secrets-\d+" in namespace apps/);
    const r = await sb.run(['rotate', 'app/a']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/patch secrets/);
    expect(r.stdout + r.stderr).toMatch(/resources: \["secrets"\], verbs: \["patch"\]/);
    expect(kube.secretData('apps', secret)).toEqual({ A_TOKEN: 'before' });
    expect(kube.restarts('deployments', 'apps', deploy)).toBe(0);
    expect((await sb.run(['get', 'app/a'])).code).not.toBe(0);
  });

  it('rolls back when the rollout stalls: the Secret holds the previous value again', async () => {
    const { sb, secret, deploy } = setup({ statusTimeout: '1500ms' });
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/a']);
    const v1 = await get(sb, 'app/a');
    kube.setRolloutMode('deployments', 'apps', deploy, 'stall');
    const t = Date.now();
    const r = await sb.run(['rotate', 'app/a']);
    console.log(`stalled rollout to rollback: ${Date.now() - t} ms`);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/did not finish its rollout within 1500ms/);
    expect(await get(sb, 'app/a')).toBe(v1);
    expect(kube.secretData('apps', secret)!.A_TOKEN).toBe(v1);
    // Restarted for the new value, and again for the restored one.
    expect(kube.restarts('deployments', 'apps', deploy)).toBe(3);
  });

  it('fails as soon as a deployment exceeds its progress deadline', async () => {
    const { sb, deploy } = setup({ statusTimeout: '30s' });
    kube.setRolloutMode('deployments', 'apps', deploy, 'fail');
    await sb.ok(['init']);
    const t = Date.now();
    const r = await sb.run(['rotate', 'app/a']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/exceeded its progress deadline/);
    expect(Date.now() - t).toBeLessThan(15_000);
    // A first rotation has no earlier version to give back: it says so, and what to do.
    expect(r.stdout + r.stderr).toMatch(/app\/a's consumers keep v1, which this first rotation delivered and then withdrew[\s\S]*rotor adopt/);
  });

  it('restarts and waits for a DaemonSet, and rolls back when its rollout stalls', async () => {
    const sb = new Sandbox(`version: 1
stores:
  k8s: { type: kubernetes, namespace: apps, name: agent-secrets, kubeconfig: kube.yaml }
consumers:
  agent:
    deliver: [{ store: k8s, key: AGENT_TOKEN }]
    reload: [{ rolloutRestart: { namespace: apps, daemonset: agent, kubeconfig: kube.yaml } }]
    health: [{ rolloutStatus: { namespace: apps, daemonset: agent, kubeconfig: kube.yaml }, timeout: 1500ms }]
secrets:
  - { id: agent/token, type: random, length: 24, encoding: alnum, grace: 1h, consumers: [agent] }
`);
    sandboxes.push(sb);
    sb.write('kube.yaml', kube.kubeconfig());
    kube.addWorkload('daemonsets', 'apps', 'agent', { replicas: 4 });
    await sb.ok(['init']);
    await sb.ok(['rotate', 'agent/token']);
    const v1 = await get(sb, 'agent/token');
    expect(kube.secretData('apps', 'agent-secrets')).toEqual({ AGENT_TOKEN: v1 });
    expect(kube.restarts('daemonsets', 'apps', 'agent')).toBe(1);
    kube.setRolloutMode('daemonsets', 'apps', 'agent', 'stall');
    const r = await sb.run(['rotate', 'agent/token']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/ROLLED BACK\s+agent\/token\s+at propagate/);
    expect(await get(sb, 'agent/token')).toBe(v1);
    expect(kube.secretData('apps', 'agent-secrets')).toEqual({ AGENT_TOKEN: v1 });
  });
});

describe('externalSecret force-sync', () => {
  function esSetup(timeout: string): { sb: Sandbox; target: string } {
    n++;
    const es = `api-es-${n}`;
    const target = `api-db-${n}`;
    // Upstream stands for Secrets Manager: a JSON file the double's controller reads.
    const sb = new Sandbox(`version: 1
stores:
  upstream: { type: json, path: upstream.json }
consumers:
  writer:
    deliver: [{ store: upstream, key: ${es}.password }]
  api:
    reload: [{ externalSecret: { namespace: apps, name: ${es}, kubeconfig: kube.yaml }, timeout: ${timeout} }]
secrets:
  - { id: db/pw, type: random, length: 24, encoding: alnum, grace: 1h, consumers: [writer, api] }
`);
    sb.write('upstream.json', '{}\n');
    sb.write('kube.yaml', kube.kubeconfig());
    sandboxes.push(sb);
    kube.addExternalSecret('apps', es, { target, data: [{ secretKey: 'password', remoteRef: { key: es, property: 'password' } }] });
    return { sb, target };
  }

  kubeSource();
  function kubeSource(): void {
    beforeAll(() => {
      kube.source = ({ key, property }) => {
        const sb = sandboxes.find((s) => readFileSync(s.path('rotor.yaml'), 'utf8').includes(`name: ${key},`));
        if (!sb) return undefined;
        const doc = JSON.parse(readFileSync(sb.path('upstream.json'), 'utf8')) as Record<string, Record<string, string>>;
        return property ? doc[key]?.[property] : JSON.stringify(doc[key]);
      };
    });
  }

  it('forces a sync and waits until the target Secret holds the new value', async () => {
    kube.externalSecretDelayMs = 300;
    const { sb, target } = esSetup('10s');
    await sb.ok(['init']);
    const t = Date.now();
    const r = await sb.ok(['rotate', 'db/pw']);
    const took = Date.now() - t;
    expect(kube.secretData('apps', target)).toEqual({ password: await get(sb, 'db/pw') });
    expect(r.stdout + r.stderr).not.toContain(await get(sb, 'db/pw'));
    expect(took).toBeGreaterThan(300);
    console.log(`rotate with an ExternalSecret syncing after 300 ms: ${took} ms`);
  });

  it('fails clearly, and rolls back, when the value never arrives', async () => {
    kube.externalSecretDelayMs = null;
    try {
      const { sb, target } = esSetup('1s');
      await sb.ok(['init']);
      const r = await sb.run(['rotate', 'db/pw']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/ExternalSecret apps\/api-es-\d+ did not bring the new value into Secret apps\/api-db-\d+ within 1s/);
      expect(kube.secretData('apps', target)).toBeUndefined();
    } finally {
      kube.externalSecretDelayMs = 300;
    }
  });
});

describe.skipIf(!process.env.ROTOR_TEST_KUBECONFIG)('a real cluster (ROTOR_TEST_KUBECONFIG)', () => {
  it('delivers into a Secret in namespace ROTOR_TEST_NAMESPACE (default: default)', async () => {
    const ns = process.env.ROTOR_TEST_NAMESPACE ?? 'default';
    const name = `rotor-test-${Date.now()}`;
    const sb = new Sandbox(`version: 1
stores:
  k8s: { type: kubernetes, namespace: ${ns}, name: ${name}, kubeconfig: ${process.env.ROTOR_TEST_KUBECONFIG} }
consumers:
  app: { deliver: [{ store: k8s, key: TOKEN }] }
secrets:
  - { id: app/token, type: random, consumers: [app] }
`);
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['plan']);
    await sb.ok(['rotate', 'app/token']);
    await sb.ok(['rotate', 'app/token']);
    console.log(`delivered twice into Secret ${ns}/${name}; delete it with kubectl -n ${ns} delete secret ${name}`);
  });
});
if (!process.env.ROTOR_TEST_KUBECONFIG) console.log('skipped the real-cluster test: set ROTOR_TEST_KUBECONFIG to a kubeconfig to run it');
