/**
 * MITA Finance's emergency runbook (examples/mita/) end to end: PostgreSQL (alternating),
 * Redis (dual-password), an HS256 JWT key, an app secret key and a provider's API key
 * (`manual`), every version in Secrets Manager (moto) under a KMS key, delivered into the
 * secrets an ExternalSecret reads, synced into a Secret by the operator's stand-in, a
 * rollout restart whose new "pod" is a real service reading the Secret's values, and a
 * rollout-status and HTTP health check. Under a steady request load:
 *  - `rotor emergency --scope critical` rotates all five in one run with one restart and no
 *    failed request;
 *  - AWSCURRENT of each is what `rotor get` prints, and the Secret holds the new values;
 *  - every old credential is refused afterwards;
 *  - a rollout that fails rolls back, in Secrets Manager and in the Secret.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubeDouble } from '../helpers/kube-double.js';
import { pgAccepts, redisAccepts } from '../helpers/logins.js';
import { Sandbox } from '../helpers/sandbox.js';
import { freePort } from '../helpers/servers/common.js';
import { motoMissing, startMoto, type MotoServer } from '../helpers/servers/moto.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/mita');
const NS = 'mita-production';
const IDS = ['database/primary', 'cache/redis-auth', 'auth/jwt', 'app/secret-key', 'external/openai-api-key'];
const missing = motoMissing();
if (missing) console.warn(`skipping the MITA example: ${missing}`);

let moto: MotoServer;
let postgres: PostgresServer;
let redis: RedisServer;
let kube: KubeDouble;
let sm: SecretsManagerClient;
let sb: Sandbox;
let service: ChildProcess | undefined;
let url: string;
let port: number;

/** What Secrets Manager serves as current for `name`, parsed. */
async function awsCurrent(name: string): Promise<Record<string, unknown>> {
  return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }))).SecretString!) as Record<string, unknown>;
}

/** The kubelet's part: a new pod reads the Secret's values; the first starts the service, the next ones roll it. */
async function newPod(): Promise<void> {
  writeFileSync(sb.path('pod-env.json'), JSON.stringify(kube.secretData(NS, 'mita-production-secrets') ?? {}));
  if (!service) {
    service = spawn(process.execPath, [resolve(EXAMPLE, 'server.mjs')], { cwd: sb.dir, env: { ...process.env, POD_ENV: sb.path('pod-env.json'), PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(service, 'listening');
    return;
  }
  const rolled = waitFor(service, 'rolled out');
  service.kill('SIGHUP');
  await rolled;
}

function waitFor(child: ChildProcess, line: string): Promise<void> {
  return new Promise((done, fail) => {
    let err = '';
    const onOut = (d: Buffer) => {
      if (!d.toString().includes(line)) return;
      child.stdout!.off('data', onOut);
      child.stderr!.off('data', onErr);
      done();
    };
    const onErr = (d: Buffer) => {
      err += d.toString();
      if (/not ready|Error/.test(err)) {
        child.stdout!.off('data', onOut);
        child.stderr!.off('data', onErr);
        fail(new Error(err));
      }
    };
    child.stdout!.on('data', onOut);
    child.stderr!.on('data', onErr);
  });
}

beforeAll(async () => {
  if (missing) return;
  [moto, postgres, redis] = await Promise.all([startMoto(), startPostgres(), startRedis()]);
  sm = new SecretsManagerClient({ ...moto.clientConfig, region: 'eu-west-1' });
  const kms = new KMSClient(moto.clientConfig);
  const keyId = (await kms.send(new CreateKeyCommand({ Description: 'mita-secrets' }))).KeyMetadata!.KeyId!;
  kms.destroy();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE ROLE mita_app NOLOGIN');
  await admin.end();

  // External Secrets Operator's part: each key of the Secret from a property of a Secrets Manager secret.
  kube = await KubeDouble.start({
    source: async ({ key, property }) => {
      try {
        const v = (await awsCurrent(key))[property ?? 'value'];
        return v === undefined ? undefined : String(v);
      } catch {
        return undefined;
      }
    },
  });
  const ref = (secretKey: string, key: string, property: string) => ({ secretKey, remoteRef: { key: `mita-finance/production/${key}`, property } });
  kube.addExternalSecret(NS, 'mita-production-secrets', {
    data: [
      ref('DB_USERNAME', 'database/primary', 'username'), ref('DB_PASSWORD', 'database/primary', 'password'),
      ref('DB_HOST', 'database/primary', 'host'), ref('DB_PORT', 'database/primary', 'port'), ref('DB_NAME', 'database/primary', 'database'),
      ref('DATABASE_URL', 'database/primary', 'connection_string'),
      ref('REDIS_PASSWORD', 'cache/redis-auth', 'password'), ref('REDIS_URL', 'cache/redis-auth', 'connection_string'),
      ref('JWT_SECRET', 'auth/jwt-secret', 'value'), ref('JWT_PREVIOUS_SECRET', 'auth/jwt-previous-secret', 'value'),
      ref('SECRET_KEY', 'app/secret-key', 'value'), ref('OPENAI_API_KEY', 'external/openai-api-key', 'value'),
    ],
  });
  kube.addWorkload('deployments', NS, 'mita-production', { replicas: 3 });
  kube.onRestart = () => newPod();

  sb = new Sandbox();
  for (const f of ['rotor.yaml', 'provider.mjs']) copyFileSync(resolve(EXAMPLE, f), sb.path(f));
  sb.write('kubeconfig', kube.kubeconfig());
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  Object.assign(sb.baseEnv, moto.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint, MITA_KMS_KEY: keyId, KUBECONFIG: sb.path('kubeconfig'),
    PG_ADMIN_URL: postgres.url, REDIS_ADMIN_URL: redis.url, SERVICE_URL: url, PROVIDER_STATE: sb.path('provider.json'),
  });
}, 120_000);

afterAll(async () => {
  service?.kill();
  sm?.destroy();
  await Promise.all([kube?.stop(), moto?.stop(), postgres?.stop(), redis?.stop()]);
  sb?.remove();
});

it.skipIf(missing)('an emergency rotates all five with one restart and no failed request, revokes the old values, and a failed rollout rolls back', async () => {
  await sb.ok(['init']);
  const first = await sb.run(['rotate', '--all']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ ok: true, dbUser: 'mita_app_clone' });
  await sb.ok(['retire', '--force']);

  const get = async (id: string) => (await sb.ok(['get', id])).stdout.replace(/\n$/, '');
  const before = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, await get(id)] as const)));
  const oldToken = ((await (await fetch(`${url}/token`)).json()) as { token: string }).token;
  const oldSession = ((await (await fetch(`${url}/session`)).json()) as { session: string }).session;

  let stop = false;
  let ok = 0;
  let resigned = 0;
  const failures: string[] = [];
  const load = Array.from({ length: 3 }, async () => {
    while (!stop) {
      try {
        const h = await fetch(`${url}/health`);
        if (h.status !== 200) throw new Error(`health ${h.status}: ${await h.text()}`);
        // An emergency has no grace: a token or session signed with the compromised key by
        // the old pod a moment before the new one serves is refused, as it must be; the
        // client signs in again once. A second refusal is a failure.
        for (let attempt = 1; ; attempt++) {
          const { token } = (await (await fetch(`${url}/token`)).json()) as { token: string };
          const w = await fetch(`${url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
          if (w.status === 200) break;
          if (w.status !== 401 || attempt === 2) throw new Error(`whoami ${w.status}: ${await w.text()}`);
          resigned++;
        }
        for (let attempt = 1; ; attempt++) {
          const { session } = (await (await fetch(`${url}/session`)).json()) as { session: string };
          const c = await fetch(`${url}/check-session`, { headers: { cookie: session } });
          if (c.status === 200) break;
          if (c.status !== 401 || attempt === 2) throw new Error(`session ${c.status}`);
          resigned++;
        }
        ok++;
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  const restarts = kube.restarts('deployments', NS, 'mita-production');
  const emergency = await sb.run(['emergency', '--scope', 'critical', '--incident', 'INC-2041', '--reason', 'suspected compromise', '--json']);
  stop = true;
  await Promise.all(load);
  expect(emergency.code, emergency.stdout + emergency.stderr).toBe(0);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(20);
  expect(resigned, 'sign-ins again after the compromised keys were dropped: at most one per client and key').toBeLessThanOrEqual(6);
  expect(kube.restarts('deployments', NS, 'mita-production') - restarts, 'one restart for the whole emergency').toBe(1);

  // Every secret has a new current value, and Secrets Manager serves it as AWSCURRENT.
  const after = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, await get(id)] as const)));
  for (const id of IDS) {
    expect(after[id], id).not.toBe(before[id]);
    const served = (await sm.send(new GetSecretValueCommand({ SecretId: `mita-finance/production/rotor/${id}`, VersionStage: 'AWSCURRENT' }))).SecretString!;
    expect(JSON.parse(served), `AWSCURRENT of ${id}`).toEqual(JSON.parse(id === 'external/openai-api-key' || id === 'app/secret-key' ? JSON.stringify(after[id]) : after[id]!));
  }
  const db = JSON.parse(after['database/primary']!) as { username: string; password: string; host: string; port: number };
  const cache = JSON.parse(after['cache/redis-auth']!) as { username: string; password: string; host: string; port: number };
  expect(kube.secretData(NS, 'mita-production-secrets')).toMatchObject({
    DB_USERNAME: db.username, DB_PASSWORD: db.password, REDIS_PASSWORD: cache.password, SECRET_KEY: after['app/secret-key'], OPENAI_API_KEY: after['external/openai-api-key'],
  });
  expect(await awsCurrent('mita-finance/production/database/primary')).toMatchObject({ password: db.password, connection_string: `postgresql://${db.username}:${db.password}@${db.host}:${db.port}/postgres` });

  // Every old credential is refused.
  const oldDb = JSON.parse(before['database/primary']!) as typeof db;
  const oldCache = JSON.parse(before['cache/redis-auth']!) as typeof cache;
  expect(await pgAccepts(oldDb), 'the old database login').toBe(false);
  expect(await pgAccepts(db), 'the new database login').toBe(true);
  expect(await redisAccepts(oldCache), 'the old Redis password').toBe(false);
  expect(await redisAccepts(cache), 'the new Redis password').toBe(true);
  expect((await fetch(`${url}/whoami`, { headers: { authorization: `Bearer ${oldToken}` } })).status, 'a token signed with the old JWT key').toBe(401);
  expect((await fetch(`${url}/check-session`, { headers: { cookie: oldSession } })).status, 'a session signed with the old secret key').toBe(401);
  // A provider's key: Rotor cannot revoke it and says so, naming where to.
  const report = JSON.parse(emergency.stdout) as unknown;
  expect(JSON.stringify(report)).not.toContain(db.password);
  expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/external\/openai-api-key.*OpenAI dashboard/);
  // Labels are Rotor's own throughout: no warning of a foreign (stuck) rotation.
  expect((JSON.parse(emergency.stdout) as { outcomes: { warnings?: string[] }[] }).outcomes.flatMap((o) => o.warnings ?? [])).toEqual([]);
  for (const id of IDS) expect(emergency.stdout + emergency.stderr, `no value of ${id} in the output`).not.toContain(after[id]!.slice(0, 40));

  // A rollout that fails: everything it delivered rolls back, in Secrets Manager and in the Secret.
  kube.setRolloutMode('deployments', NS, 'mita-production', 'fail');
  const failed = await sb.run(['rotate', 'database/primary']);
  expect(failed.code, failed.stdout + failed.stderr).toBe(1);
  expect(failed.stdout).toMatch(/ROLLED BACK\s+database\/primary\s+at propagate/);
  kube.setRolloutMode('deployments', NS, 'mita-production', 'ok');
  expect(await get('database/primary')).toBe(after['database/primary']);
  expect(await awsCurrent('mita-finance/production/database/primary')).toMatchObject({ password: db.password });
  expect(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'mita-finance/production/rotor/database/primary', VersionStage: 'AWSCURRENT' }))).SecretString!)).toEqual(db);
  expect(kube.secretData(NS, 'mita-production-secrets')).toMatchObject({ DB_PASSWORD: db.password });
  expect(await pgAccepts(db)).toBe(true);
  expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ ok: true, dbUser: db.username });
  await sb.ok(['audit', 'verify']);
  expect(spawnSync('node', [sb.path('provider.mjs'), 'check'], { input: after['external/openai-api-key'], env: { ...process.env, PROVIDER_STATE: sb.path('provider.json') } }).status).toBe(0);
}, 240_000);
