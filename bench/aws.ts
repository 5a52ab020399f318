/**
 * The Secrets Manager store's figure, against a private moto server started here: 100
 * `random` secrets with `store: aws` rotated in one `rotor rotate --all --no-grace`, beside
 * a bare Node script making the same Secrets Manager calls per secret with the SDK, at the
 * same concurrency, started as a process of its own like rotor (so both pay start-up and
 * the SDK's load). The calls are counted through a small proxy in an untimed pass of each,
 * and the bench says so when the baseline no longer makes the calls Rotor makes.
 * Bundled and run by bench/run.mjs.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { resolve } from 'node:path';
import { Sandbox } from '../test/helpers/sandbox.js';
import { freePort, serverDir, startProcess, stopper } from '../test/helpers/servers/common.js';
import { MOTO_REGION } from '../test/helpers/servers/moto.js';

type Report = (name: string, value: number, unit: string, baselineName: string, baseline: number, goal: string) => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// ROTOR_BENCH_SECRETS: a smaller run while working on the bench itself.
const N = Number(process.env.ROTOR_BENCH_SECRETS) || 100;
const ROUNDS = 5;
/** rotor.yaml's `concurrency` default (config/schema.ts), which this bench's config keeps: secrets rotated at once. */
const CONCURRENCY = 32;
const REPO = resolve(import.meta.dirname, '../..');

/**
 * test/helpers/servers/moto.ts's startMoto, with the repository found from this bundle's
 * place (bench/.build/, two levels down; the helper counts three, from test/helpers/servers/).
 */
async function startMoto() {
  const bin = resolve(REPO, '.venv/bin/moto_server');
  if (!existsSync(bin)) throw new Error(`moto_server not found at ${bin}: run scripts/setup.sh --test`);
  const dir = serverDir('rotor-moto-');
  const port = await freePort();
  const { child, log } = startProcess(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMPDIR: dir, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  const stop = stopper(child, dir);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not start:\n${log()}`);
    }
    if (await fetch(`${endpoint}/moto-api/data.json`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint, stop,
    env: {
      AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: MOTO_REGION, AWS_DEFAULT_REGION: MOTO_REGION, AWS_EC2_METADATA_DISABLED: 'true',
    },
  };
}

/** One Secrets Manager call as the proxy saw it: `DescribeSecret`, `UpdateSecretVersionStage:AWSCURRENT`, `!` when answered with an error. */
interface Call { secret: string; call: string }

/** A pass-through to moto that records each call's action, secret and outcome (only for the untimed counting passes). */
async function countingProxy(upstream: string) {
  const up = new URL(upstream);
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let input: Record<string, string> = {};
      try {
        input = JSON.parse(body.toString('utf8')) as Record<string, string>;
      } catch {
        // not a JSON call: counted without a secret
      }
      const action = String(req.headers['x-amz-target'] ?? '?').replace(/^secretsmanager\./, '');
      const fwd = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        const status = r.statusCode ?? 502;
        calls.push({ secret: input.SecretId ?? input.Name ?? '', call: `${action}${action === 'UpdateSecretVersionStage' ? `:${input.VersionStage}` : ''}${status >= 400 ? '!' : ''}` });
        res.writeHead(status, r.headers);
        r.pipe(res);
      });
      fwd.on('error', () => res.writeHead(502).end());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** Each secret's calls in order, and how many secrets made each sequence. */
    take(): Map<string, number> {
      const bySecret = new Map<string, string[]>();
      for (const c of calls.splice(0)) bySecret.set(c.secret, [...(bySecret.get(c.secret) ?? []), c.call]);
      const sequences = new Map<string, number>();
      for (const seq of bySecret.values()) sequences.set(seq.join(' '), (sequences.get(seq.join(' ')) ?? 0) + 1);
      return sequences;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * The baseline: what Rotor's store asks of Secrets Manager for one steady-state rotation of
 * a secret (src/stores/aws-secrets-manager/store.ts, in the engine's order), nothing else —
 * no state store, no journal, no audit. One client for the process, CONCURRENCY secrets at
 * once. `setup` instead creates the secrets with a first value, as Rotor's first rotation leaves them.
 */
const BASELINE = `
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
const [endpoint, prefix, n, concurrency, mode] = process.argv.slice(1);
const client = new SecretsManagerClient({ region: process.env.AWS_REGION, endpoint });
const value = () => JSON.stringify(randomBytes(24).toString('base64url'));
/** A call Rotor makes knowing it may fail (a version not stored yet): the error is the answer. */
const refused = (cmd) => client.send(cmd).then(() => { throw new Error(cmd.constructor.name + ' succeeded'); }, (err) => {
  if (!['ResourceNotFoundException', 'InvalidParameterException'].includes(err.name)) throw err;
});
const describe = (name) => client.send(new DescribeSecretCommand({ SecretId: name }));
async function rotate(name) {
  const old = (await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }))).VersionId; // read the live value
  await describe(name); // preflight (the labels, once per rotation)
  const token = 'base-' + randomUUID();
  await refused(new GetSecretValueCommand({ SecretId: name, VersionId: token })); // create: a value stored before a crash?
  await client.send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: value(), VersionStages: ['AWSPENDING'] }));
  await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: token })); // the new value read back
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: old }));
  await describe(name); // where AWSPREVIOUS went
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: old })); // retire
}
const setup = (name) => client.send(new CreateSecretCommand({ Name: name, SecretString: value() }));
let next = 0;
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (next < Number(n)) {
    const name = prefix + 'bench/key-' + next++;
    await (mode === 'setup' ? setup(name) : rotate(name));
  }
}));
`;

function baseline(endpoint: string, env: Record<string, string>, mode: 'setup' | 'rotate'): Promise<number> {
  return new Promise((done, fail) => {
    const t = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', BASELINE, endpoint, 'baseline/', String(N), String(CONCURRENCY), mode], {
      // From the repository, so the script finds node_modules/ as rotor does.
      cwd: REPO, env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? done(performance.now() - t) : fail(new Error(`baseline exited ${code}:\n${stderr}`))));
  });
}

const describeSequences = (s: Map<string, number>) => [...s].map(([seq, secrets]) => `${seq.split(' ').length} calls (${secrets} secrets): ${seq}`).join('\n    ');

export async function run(report: Report): Promise<void> {
  const moto = await startMoto();
  let yaml = `version: 1\nstores:\n  aws: { type: aws-secrets-manager, region: ${MOTO_REGION}, prefix: rotor/, endpoint: "\${MOTO_ENDPOINT}" }\nsecrets:\n`;
  for (let i = 0; i < N; i++) yaml += `  - { id: bench/key-${i}, type: random, length: 32, store: aws, interval: 90d }\n`;
  const sb = new Sandbox(yaml);
  Object.assign(sb.baseEnv, moto.env, { MOTO_ENDPOINT: moto.endpoint });
  try {
    await sb.ok(['init']);
    // First rotation: creates the Secrets Manager secrets. The timed ones are steady-state rotations that also retire.
    await sb.ok(['rotate', '--all', '--no-grace']);
    await baseline(moto.endpoint, moto.env, 'setup');

    // One untimed pass of each through the counting proxy: the calls per secret.
    const proxy = await countingProxy(moto.endpoint);
    await sb.ok(['rotate', '--all', '--no-grace'], { MOTO_ENDPOINT: proxy.endpoint });
    const rotorCalls = proxy.take();
    await baseline(proxy.endpoint, moto.env, 'rotate');
    const baselineCalls = proxy.take();
    await proxy.close();
    const same = rotorCalls.size === 1 && baselineCalls.size === 1 && [...rotorCalls.keys()][0] === [...baselineCalls.keys()][0];
    const perSecret = (s: Map<string, number>) => [...s.keys()][0]!.split(' ').length;
    console.log(`Secrets Manager calls per secret, one rotation: rotor ${describeSequences(rotorCalls)}`);
    if (!same) console.log(`  NOT the baseline's (update its script to the store's calls): ${describeSequences(baselineCalls)}`);

    // Interleaved, so that the machine's swings reach both alike.
    const walls: number[] = [];
    const bases: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      await sb.ok(['rotate', '--all', '--no-grace']);
      walls.push(performance.now() - t);
      bases.push(await baseline(moto.endpoint, moto.env, 'rotate'));
    }
    const wall = median(walls);
    const base = median(bases);
    console.log(
      `rotate ${N} secrets in Secrets Manager (moto), --no-grace: wall ${(wall / 1000).toFixed(2)} s (rounds ${walls.map((w) => (w / 1000).toFixed(2)).join(', ')}); ` +
        `the same ${perSecret(rotorCalls)} calls per secret from a bare SDK script, ${CONCURRENCY} at once: ${(base / 1000).toFixed(2)} s (${bases.map((w) => (w / 1000).toFixed(2)).join(', ')}); goal ≤ 1.5×`,
    );
    report(`rotate ${N} secrets, Secrets Manager store (moto)`, wall, 'ms', `the same SDK calls, bare script, ${CONCURRENCY} at once${same ? '' : ' (CALLS DIFFER)'}`, base, '≤ 1.5×');
  } finally {
    sb.remove();
    await moto.stop();
  }
}
