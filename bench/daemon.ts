/**
 * Issue 14's figures, against a real `rotor serve` over 10,000 secrets: RSS after an
 * hour-equivalent of scheduler ticks, one tick, a /metrics scrape, `GET /v1/secrets?limit=100`
 * p99 under 50 concurrent clients, and /.well-known/jwks.json throughput — each beside a
 * baseline measured in the same run. Bundled and run by bench/run.mjs.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { startServe } from '../test/helpers/daemon.js';
import { Sandbox } from '../test/helpers/sandbox.js';

type Report = (name: string, value: number, unit: string, baselineName: string, baseline: number, goal: string) => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// ROTOR_BENCH_SECRETS: a smaller run while working on the bench itself.
const N = Number(process.env.ROTOR_BENCH_SECRETS) || 10_000;

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

async function cannon(url: string, opts: { connections: number; duration: number; headers?: Record<string, string> }) {
  return autocannon({ url, connections: opts.connections, duration: opts.duration, headers: opts.headers });
}

/** RSS of a process that loads fastify and listens: what any Node HTTP daemon costs. */
async function bareRss(): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import Fastify from 'fastify';
    const app = Fastify(); app.get('/', async () => 'ok'); await app.listen({ port: 0, host: '127.0.0.1' });
    setTimeout(() => { process.stdout.write(String(process.memoryUsage().rss)); process.exit(0); }, 1000);`], { cwd: process.cwd() });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  if (!Number(out)) throw new Error('the bare fastify process reported no RSS');
  return Number(out);
}

export async function run(report: Report): Promise<void> {
  let yaml = 'version: 1\nserve: { tick: 10ms }\nsecrets:\n';
  for (let i = 0; i < N; i++) yaml += `  - { id: bench/key-${i}, type: random, interval: 90d }\n`;
  yaml += '  - { id: bench/jwt, type: jwt-keyset, algorithm: ES256, publish: true, interval: 90d, grace: 1h }\n';
  const sb = new Sandbox(yaml);
  await sb.ok(['init']);
  const t0 = performance.now();
  await sb.ok(['rotate', '--all', '--no-grace']);
  console.log(`(set-up: first rotation of ${N.toLocaleString('en')} secrets took ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  await sb.ok(['rotate', 'bench/jwt']); // a key in grace: the JWKS holds two
  const token = (await sb.ok(['token', 'create', '--role', 'viewer', '--name', 'bench'])).stdout.trim();
  let d = await startServe(sb, { readyTimeoutMs: 120_000 });
  try {
    // 1. 3,600 ticks (an hour at the default 1 s tick), nothing due: what a month-long daemon settles at.
    const ticks = async () => metric(await (await d.fetch('/metrics')).text(), 'rotor_scheduler_ticks_total');
    const start = await ticks();
    const tStart = performance.now();
    while ((await ticks()) < start + 3600) await new Promise((r) => setTimeout(r, 1000));
    const text = await (await d.fetch('/metrics')).text();
    const rss = metric(text, 'rotor_process_resident_memory_bytes') / 2 ** 20;
    const bare = (await bareRss()) / 2 ** 20;
    console.log(`(3,600 ticks took ${((performance.now() - tStart) / 1000).toFixed(0)} s)`);
    report('daemon RSS, 10,000 secrets, after 3,600 ticks', rss, 'MB', 'a bare fastify process', bare, '≤ 150 MB');

    // The rest at the default 1 s tick: a 10 ms tick keeps the event loop busy by design.
    await d.stop(60_000);
    sb.write('rotor.yaml', yaml.replace('serve: { tick: 10ms }', 'serve: { tick: 1s }'));
    d = await startServe(sb, { readyTimeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 2500));

    // 2. One tick: the daemon's own gauge of its last tick, sampled while nothing changes.
    const tickMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      tickMs.push(metric(await (await d.fetch('/metrics')).text(), 'rotor_scheduler_tick_seconds') * 1000);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const loop = performance.now();
    const now = Date.now();
    let due = 0;
    for (let i = 0; i < N; i++) if (now - i > now + 90 * 86_400_000) due++;
    const bareLoop = performance.now() - loop + due;
    report('one scheduler tick, 10,000 secrets', median(tickMs), 'ms', 'a bare loop over 10,000 due times', Math.max(bareLoop, 0.01), '≤ 20 ms');

    // 3. A /metrics scrape, beside /healthz on the same daemon.
    const time = async (path: string, n: number) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await (await d.fetch(path)).arrayBuffer();
        xs.push(performance.now() - t);
      }
      return median(xs);
    };
    report('/metrics scrape, 10,000 secrets', await time('/metrics', 21), 'ms', 'GET /healthz', await time('/healthz', 21), '≤ 100 ms');

    // 4. GET /v1/secrets?limit=100, p99 under 50 concurrent clients, beside /healthz under the same load.
    const auth = { authorization: `Bearer ${token}` };
    const list = await cannon(`${d.url}/v1/secrets?limit=100`, { connections: 50, duration: 10, headers: auth });
    const healthz = await cannon(`${d.url}/healthz`, { connections: 50, duration: 10 });
    if (list.non2xx) throw new Error(`GET /v1/secrets answered ${list.non2xx} non-2xx`);
    report('GET /v1/secrets?limit=100 p99, 50 clients', list.latency.p99, 'ms', 'GET /healthz p99, 50 clients', healthz.latency.p99, '≤ 20 ms');

    // 5. JWKS throughput, beside a bare fastify route returning the same bytes.
    const body = await (await d.fetch('/.well-known/jwks.json')).text();
    const jwks = await cannon(`${d.url}/.well-known/jwks.json`, { connections: 50, duration: 10 });
    // The baseline in its own process, as the daemon is: autocannon runs in this one.
    const bareServer = spawn(process.execPath, ['--input-type=module', '-e', `
      import Fastify from 'fastify';
      const body = ${JSON.stringify(body)};
      const app = Fastify(); app.get('/jwks', async (_req, reply) => reply.header('content-type', 'application/json').send(body));
      await app.listen({ port: 0, host: '127.0.0.1' }); process.stdout.write(String(app.server.address().port) + '\\n');`], { cwd: process.cwd() });
    const barePort = await new Promise<number>((resolve) => bareServer.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const bareJwks = await cannon(`http://127.0.0.1:${barePort}/jwks`, { connections: 50, duration: 10 });
    bareServer.kill();
    report('/.well-known/jwks.json throughput', jwks.requests.average, 'req/s', 'bare fastify route, same bytes, own process', bareJwks.requests.average, '≥ 10,000 req/s');
  } finally {
    await d.stop(60_000);
  }
}
