/**
 * propagate with real consumers: the value is delivered into a .env file (only its line
 * changes), a reload command gets it on stdin (never argv), and an HTTP health check
 * decides. A failing health check, one that times out, a reload that exits non-zero and a
 * consumer host that is down each roll back by themselves: the previous value is current
 * again, delivered again, reloaded, checked — exit 1. `rotor rollback` does the same on demand.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { freePort } from '../helpers/servers/common.js';

/** 'fail' and 'hang' apply only while the .env at `envPath` holds a token other than `good`: the service breaks on the new value only. */
let mode: 'ok' | 'fail' | 'hang' = 'ok';
let envPath = '';
let good = '';
const reloadPosts: string[] = [];
let server: Server;
let port: number;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  port = await freePort();
  server = createServer((req, res) => {
    if (req.url === '/reload') {
      reloadPosts.push(req.method!);
      return void res.writeHead(204).end();
    }
    const onGood = mode === 'ok' || readFileSync(envPath, 'utf8').includes(`API_TOKEN=${good}`);
    if (!onGood && mode === 'hang') return; // never answers
    res.writeHead(onGood ? 200 : 500).end(onGood ? 'healthy' : 'db down');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  sandboxes.forEach((s) => s.remove());
});

const RELOAD = `import { appendFileSync, readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  appendFileSync('reloads.log', JSON.stringify({ argv: process.argv.slice(2), stdin: createHash('sha256').update(input).digest('hex'), version: process.env.ROTOR_VERSION }) + '\\n');
  // reload-exit names a version this service cannot start with.
  process.exit(existsSync('reload-exit') && readFileSync('reload-exit', 'utf8') === process.env.ROTOR_VERSION ? 3 : 0);
});
`;

const ENV = '# api settings\nexport LOG_LEVEL=info\nAPI_TOKEN=placeholder # rotated by Rotor\nOTHER="keep me"\n';

async function setup(health = `{ http: "http://127.0.0.1:${port}/health", timeout: 500ms, retries: 1, interval: 100ms }`) {
  const sb = new Sandbox(`version: 1
stores:
  app-env: { type: env-file, path: app/.env }
consumers:
  api:
    deliver: [{ store: app-env, key: API_TOKEN }]
    reload: [{ command: ["${process.execPath}", "reload.mjs", "--graceful"], timeout: 5s }]
    health: [${health}]
secrets:
  - { id: app/token, type: random, consumers: [api], grace: 1h }
`);
  sandboxes.push(sb);
  mkdirSync(sb.path('app'));
  sb.write('app/.env', ENV);
  sb.write('reload.mjs', RELOAD);
  await sb.ok(['init']);
  mode = 'ok';
  await sb.ok(['rotate', 'app/token']);
  return sb;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const value = async (sb: Sandbox, v: number) => (await sb.ok(['get', 'app/token', '--version', String(v)])).stdout.trim();
const reloads = (sb: Sandbox) => readFileSync(sb.path('reloads.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; stdin: string; version: string });
const envFileFor = (token: string) => ENV.replace('API_TOKEN=placeholder', `API_TOKEN=${token}`);

describe('propagate', () => {
  it('delivers into .env (only its line changes), reloads with the value on stdin, checks health', async () => {
    const sb = await setup();
    const v1 = await value(sb, 1);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(envFileFor(v1));
    expect(reloads(sb)).toEqual([{ argv: ['--graceful'], stdin: sha(v1), version: '1' }]);
    const plan = (await sb.ok(['plan'])).stdout;
    expect(plan).toMatch(/propagate api: deliver API_TOKEN → app-env, 1 reload, 1 health check \(a failed check rolls back\)/);
  });

  it.each([
    ['a failing health check', () => (mode = 'fail'), /health check failed after 2 attempts: http:\/\/127\.0\.0\.1:\d+\/health answered 500, expected 200/],
    ['a health check that times out', () => (mode = 'hang'), /health check failed after 2 attempts: no answer within 500ms/],
    ['a reload that exits non-zero', (sb: Sandbox) => sb.write('reload-exit', '2'), /reload failed: `.*reload\.mjs --graceful` exited 3/],
  ])('%s rolls back: previous value current, delivered and reloaded again, exit 1', async (_name, breakIt, message) => {
    const sb = await setup();
    const v1 = await value(sb, 1);
    [envPath, good] = [sb.path('app/.env'), v1];
    breakIt(sb);
    const r = await sb.run(['rotate', 'app/token']);
    mode = 'ok';
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/ROLLED BACK\s+app\/token\s+at propagate: consumer api: /);
    expect(r.stdout).toMatch(message);
    const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', 'app/token']);
    expect(h.versions.map((v) => `${v.version}:${v.stage}`)).toEqual(['1:current', '2:failed']);
    expect((await sb.ok(['get', 'app/token'])).stdout.trim()).toBe(v1);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(envFileFor(v1));
    // Reloaded with v2, then with v1 again.
    expect(reloads(sb).map((x) => x.version)).toEqual(['1', '2', '1']);
    expect(reloads(sb).at(-1)!.stdin).toBe(sha(v1));
  });

  it('a consumer host that is down rolls back', async () => {
    const closed = await freePort();
    const sb = await setup(`{ http: "http://127.0.0.1:${port}/health", timeout: 500ms }`);
    const v1 = await value(sb, 1);
    // Point the health check at a port nothing listens on, as when the consumer's host is down.
    sb.write('rotor.yaml', readFileSync(sb.path('rotor.yaml'), 'utf8').replace(`http: "http://127.0.0.1:${port}/health", timeout: 500ms`, `tcp: "127.0.0.1:${closed}", timeout: 500ms, retries: 0`));
    const r = await sb.run(['rotate', 'app/token']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`consumer api: health check failed after 1 attempt: 127\\.0\\.0\\.1:${closed}: connect ECONNREFUSED`));
    // The previous value is current and delivered again, although the host is still down.
    expect((await sb.ok(['get', 'app/token'])).stdout.trim()).toBe(v1);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(envFileFor(v1));
  });

  it('`rotor rollback` re-delivers the previous value and reloads', async () => {
    const sb = await setup();
    const v1 = await value(sb, 1);
    await sb.ok(['rotate', 'app/token']);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(envFileFor(await value(sb, 2)));
    await sb.ok(['rollback', 'app/token']);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(envFileFor(v1));
    expect(reloads(sb).map((x) => x.version)).toEqual(['1', '2', '1']);
  });

  it('reloads over HTTP and with a signal to the pid in a pidfile', async () => {
    const sb = new Sandbox(`version: 1
stores:
  cfg: { type: json, path: app/config.json }
consumers:
  worker:
    deliver: [{ store: cfg, key: auth.token }]
    reload:
      - { http: "http://127.0.0.1:${port}/reload", method: POST }
      - { signal: HUP, pidfile: worker.pid }
secrets:
  - { id: app/token, type: random }
  - { id: app/other, type: random, consumers: [worker] }
`);
    sandboxes.push(sb);
    mkdirSync(sb.path('app'));
    sb.write('app/config.json', '{\n  "name": "worker",\n  "auth": { "token": "old" }\n}\n');
    // A worker that counts SIGHUPs.
    const worker = spawn(process.execPath, ['-e', "let n = 0; process.on('SIGHUP', () => console.log('hup', ++n)); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    let hups = '';
    worker.stdout.on('data', (d) => (hups += d));
    sb.write('worker.pid', String(worker.pid));
    await new Promise((r) => setTimeout(r, 200));
    try {
      await sb.ok(['init']);
      const before = reloadPosts.length;
      await sb.ok(['rotate', 'app/other']);
      expect(reloadPosts.slice(before)).toEqual(['POST']);
      await new Promise((r) => setTimeout(r, 200));
      expect(hups).toMatch(/hup 1/);
      const config = JSON.parse(readFileSync(sb.path('app/config.json'), 'utf8'));
      expect(config).toEqual({ name: 'worker', auth: { token: (await sb.ok(['get', 'app/other'])).stdout.trim() } });
    } finally {
      worker.kill();
    }
  });

  it('renders a template file (mode kept, old one backed up sealed) and refuses an unknown placeholder at load', async () => {
    const sb = new Sandbox(`version: 1
consumers:
  nginx:
    deliver: [{ template: templates/auth.conf.tmpl, to: conf/auth.conf }]
secrets:
  - { id: app/token, type: random, consumers: [nginx] }
`);
    sandboxes.push(sb);
    mkdirSync(sb.path('templates'));
    mkdirSync(sb.path('conf'));
    sb.write('templates/auth.conf.tmpl', '# generated\nset $token "{{ value }}";\n');
    sb.write('conf/auth.conf', 'old\n');
    chmodSync(sb.path('conf/auth.conf'), 0o640);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/token']);
    const v1 = (await sb.ok(['get', 'app/token'])).stdout.trim();
    expect(readFileSync(sb.path('conf/auth.conf'), 'utf8')).toBe(`# generated\nset $token "${v1}";\n`);
    expect(statSync(sb.path('conf/auth.conf')).mode & 0o777).toBe(0o640);
    // The old one is kept sealed (`rotor backup files`), never in plaintext.
    const copies = await sb.json<{ files: { file: string; copies: unknown[] }[] }>(['backup', 'files']);
    expect(copies.files.map((f) => [f.file, f.copies.length])).toEqual([[sb.path('conf/auth.conf'), 1]]);

    // A broken template is a config error, found before anything is touched (exit 2, its
    // line); a template broken after the config loaded fails at render (test/consumers/round.test.ts).
    sb.write('templates/auth.conf.tmpl', 'set $token "{{ password }}";\n');
    const r = await sb.run(['rotate', 'app/token']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rotor\.yaml:4:\d+: consumers\.nginx\.deliver\.0\.template: templates\/auth\.conf\.tmpl:1: \{\{ password \}\}: app\/token is a random: the value is a string: it has no fields/);
    expect(readFileSync(sb.path('conf/auth.conf'), 'utf8')).toBe(`# generated\nset $token "${v1}";\n`);
    sb.write('templates/auth.conf.tmpl', '# generated\nset $token "{{ value }}";\n');
    const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', 'app/token']);
    expect(h.versions.map((v) => `${v.version}:${v.stage}`)).toEqual(['1:current']); // the refused run made nothing
  });

  it('a reload that echoes the value in its error output does not leak it: the message is redacted', async () => {
    const sb = new Sandbox(`version: 1
consumers:
  chatty:
    reload: [{ command: "cat >&2; exit 1", shell: true }]
secrets:
  - { id: app/token, type: random }
  - { id: app/echoed, type: random, consumers: [chatty] }
`);
    sandboxes.push(sb);
    await sb.ok(['init']);
    const r = await sb.run(['rotate', 'app/echoed']);
    expect(r.stdout).toMatch(/consumer chatty: reload failed: `cat >&2; exit 1` exited 1: \[REDACTED\]/);
    const h = await sb.json<{ versions: { version: number }[] }>(['history', 'app/echoed']);
    const leaked = (await sb.ok(['get', 'app/echoed', '--version', String(h.versions[0]!.version)])).stdout.trim();
    const haystack = r.stdout + r.stderr + (await sb.ok(['audit', 'export'])).stdout + [...sb.files('.rotor')].map(([, b]) => b.toString('latin1')).join('');
    expect(haystack.includes(leaked)).toBe(false);
  });

  it('refuses a consumer that is not defined, and delivering into the vault', async () => {
    const sb = new Sandbox('version: 1\nconsumers:\n  api:\n    deliver: [{ store: local, key: X }]\nsecrets:\n  - { id: a/b, type: random, consumers: [web] }\n');
    sandboxes.push(sb);
    const r = await sb.run(['plan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/consumers\.api\.deliver\.0\.store: deliver into a delivery target \(env-file, json, yaml, kubernetes, aws-secrets-manager\), not the local vault/);
    expect(r.stderr).toMatch(/secrets\.0\.consumers\.0: unknown consumer "web"/);
  });
});

