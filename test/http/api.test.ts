/**
 * The API doing things, against a real `rotor serve`: rotate (202 at once, steps followed
 * live, 409 while busy, concurrent requests), rollback and retire, an emergency while a
 * batch runs, the JWKS endpoint of ES256 and RS256 key sets (verified by jose against the
 * endpoint), the OpenAPI document against the routes the server answers, and a leak canary
 * over every response, log line, /metrics and webhook payload.
 */
import { createServer, type Server } from 'node:http';
import { createRemoteJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServe, type ServeProcess } from '../helpers/daemon.js';
import { Sandbox } from '../helpers/sandbox.js';
import { OPEN_ROUTES, ROUTES } from './routes.js';
import { call, isErrorBody, seen } from './client.js';

const HOOK_SECRET = 'hookSecretCanary-0123456789abcdef';
const SLOW = `["${process.execPath}", "-e", "setTimeout(() => {}, 1500)"]`;

let sb: Sandbox;
let d: ServeProcess;
let hook: Server;
const payloads: string[] = [];
let admin = '';
let operator = '';
let viewer = '';

interface KeySet { alg: string; kid: string; keys: (JWK & { kid: string })[] }
interface History { versions: { version: number; stage: string }[]; rotations: { id: string; status: string; toVersion: number }[] }

const get = async (id: string, version?: number) => (await sb.ok(['get', id, ...(version ? ['--version', String(version)] : [])])).stdout.trim();
const keySet = async (id: string, version?: number) => JSON.parse(await get(id, version)) as KeySet;
const api = (path: string, o: Parameters<typeof call>[2] = {}) => call(d.port, path, { token: admin, ...o });
const jwks = () => api('/.well-known/jwks.json', { token: undefined });

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const ended = (id: string) => until(`rotation ${id} to end`, async () => {
  const r = await api(`/v1/rotations/${id}`, { token: viewer });
  return ['running', 'rolling-back'].includes(r.json.status) ? undefined : r.json;
});

async function sign(set: KeySet): Promise<string> {
  const key = set.keys.find((k) => k.kid === set.kid)!;
  return new SignJWT({ sub: 'canary' }).setProtectedHeader({ alg: set.alg, kid: set.kid }).setIssuedAt().setExpirationTime('5m').sign(await importJWK(key, set.alg));
}
async function verifies(token: string): Promise<boolean> {
  const set = createRemoteJWKSet(new URL(`${d.url}/.well-known/jwks.json`), { cacheMaxAge: 0, cooldownDuration: 0 });
  return jwtVerify(token, set).then(() => true, () => false);
}

beforeAll(async () => {
  const port = await freePort();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      payloads.push(`${JSON.stringify(req.headers)}\n${body}`);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(port, '127.0.0.1', r));
  sb = new Sandbox(`version: 1
serve: { tick: 200ms }
consumers:
  slow:
    health: [{ command: ${SLOW}, timeout: 5s, retries: 0 }]
secrets:
  - { id: app/slow, type: random, length: 32, grace: 1h, consumers: [slow], priority: high }
  - { id: app/key, type: random, length: 32, grace: 1h }
  - { id: auth/es, type: jwt-keyset, algorithm: ES256, publish: true, grace: 1h, consumers: [slow] }
  - { id: auth/rs, type: jwt-keyset, algorithm: RS256, publish: true, grace: 1h }
notify:
  hook: { type: webhook, url: "http://127.0.0.1:${port}/hook", secret: ${HOOK_SECRET}, events: [rotation.failed, rotation.rolled-back, rotation.needs-attention, rotation.succeeded, secret.due-soon, secret.overdue, emergency.started, emergency.finished] }
`);
  await sb.ok(['init']);
  await sb.ok(['rotate', '--all']);
  admin = (await sb.ok(['token', 'create', '--role', 'admin', '--name', 'admin'])).stdout.trim();
  operator = (await sb.ok(['token', 'create', '--role', 'operator', '--name', 'op'])).stdout.trim();
  viewer = (await sb.ok(['token', 'create', '--role', 'viewer', '--name', 'viewer'])).stdout.trim();
  d = await startServe(sb);
}, 60_000);

afterAll(async () => {
  await d?.stop();
  await new Promise((r) => hook?.close(r));
  sb?.remove();
});

describe('rotate, rollback, retire', () => {
  it('POST rotate answers 202 with the id of the rotation it started, at once; GET /v1/rotations/{id} shows its steps progress to the end; a second rotate meanwhile is 409', async () => {
    const res = await api('/v1/secrets/app%2Fslow/rotate', { token: operator, body: { reason: 'api test' } });
    expect(res.status).toBe(202);
    expect(res.ms).toBeLessThan(1000); // the consumer's health check alone takes 1.5 s
    const id = res.json.rotationId as string;
    expect(res.json.status).toBe(`/v1/rotations/${id}`);
    const first = await api(`/v1/rotations/${id}`, { token: viewer });
    expect(first.status).toBe(200);
    // It is the rotation this request started, not the one it found in grace.
    expect(first.json).toMatchObject({ id, secretId: 'app/slow', trigger: 'api', actor: 'api:op', reason: 'api test', fromVersion: 1, toVersion: 2 });

    const busy = await api('/v1/secrets/app%2Fslow/rotate', { token: operator, body: {} });
    expect(busy.status).toBe(409);
    expect(isErrorBody(busy.json)).toBe(true);

    const snapshots: string[] = [];
    const end = await until('the end', async () => {
      const r = await api(`/v1/rotations/${id}`, { token: viewer });
      const steps = (r.json.steps as { step: string; phase: string }[]).map((s) => `${s.step}:${s.phase}`).join(',');
      if (snapshots.at(-1) !== steps) snapshots.push(steps);
      return r.json.status === 'running' ? undefined : r.json;
    });
    expect(end.status).toBe('grace');
    expect(snapshots.length).toBeGreaterThan(1); // seen while it moved
    expect(snapshots.at(-1)).toMatch(/propagate:done/);
    expect(snapshots[0]).not.toMatch(/propagate:done/);
  }, 30_000);

  it('five concurrent rotate requests for one secret: exactly one 202, the others 409', async () => {
    const all = await Promise.all(Array.from({ length: 5 }, () => api('/v1/secrets/app%2Fslow/rotate', { token: operator, body: {} })));
    expect(all.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409]);
    await ended(all.find((r) => r.status === 202)!.json.rotationId);
  }, 30_000);

  it('rollback during grace: 200, the previous value is current again (rotor get); a second rollback is refused cleanly', async () => {
    const before = await get('app/key');
    const r = await api('/v1/secrets/app%2Fkey/rotate', { token: operator, body: {} });
    expect(r.status).toBe(202);
    await ended(r.json.rotationId);
    expect(await get('app/key')).not.toBe(before);
    const back = await api('/v1/secrets/app%2Fkey/rollback', { token: operator, body: { reason: 'bad deploy' } });
    expect(back.status).toBe(200);
    expect(await get('app/key')).toBe(before);
    const again = await api('/v1/secrets/app%2Fkey/rollback', { token: operator, body: {} });
    // 404 today (a NotFoundError: "no previous value that is still valid"), where retire's
    // "nothing to retire" is 409: see the report; either way a clear error, nothing changed.
    expect([404, 409], again.text).toContain(again.status);
    expect(again.json.hint).toMatch(/grace/);
    expect(await get('app/key')).toBe(before);
    expect(isErrorBody(again.json)).toBe(true);
  }, 30_000);

  it('retire before grace ends: 409 with a hint; with force: done, the previous is retired', async () => {
    const r = await api('/v1/secrets/app%2Fkey/rotate', { token: operator, body: {} });
    await ended(r.json.rotationId);
    const early = await api('/v1/secrets/app%2Fkey/retire', { token: operator, body: {} });
    expect(early.status).toBe(409);
    expect(isErrorBody(early.json)).toBe(true);
    expect(early.json.hint).toMatch(/force/);
    const forced = await api('/v1/secrets/app%2Fkey/retire', { token: operator, body: { force: true } });
    expect(forced.status).toBe(200);
    expect(forced.json.outcomes[0].status).toBe('succeeded');
    const h = await sb.json<History>(['history', 'app/key']);
    expect(h.versions.filter((v) => v.stage === 'previous')).toHaveLength(0);
  }, 30_000);
});

describe('JWKS', () => {
  it('serves public keys only, with an ETag (304 on If-None-Match) and a max-age shorter than the grace', async () => {
    const res = await jwks();
    expect(res.status).toBe(200);
    const keys = res.json.keys as Record<string, string>[];
    expect(keys.map((k) => k.kty).sort()).toEqual(['EC', 'RSA']);
    for (const k of keys) for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(k).not.toHaveProperty(priv);
    expect(res.headers['cache-control']).toMatch(/max-age=(\d+)/);
    expect(Number(/max-age=(\d+)/.exec(res.headers['cache-control']!)![1])).toBeLessThan(3600);
    const again = await call(d.port, '/.well-known/jwks.json', { headers: { 'if-none-match': res.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('ES256: the new key is published while its rotation runs, before it signs; a token it signs verifies against the endpoint right after; the old key stays in grace and leaves at retire', async () => {
    const old = await keySet('auth/es');
    const oldToken = await sign(old);
    expect(await verifies(oldToken)).toBe(true);
    const etag = (await jwks()).headers.etag;
    const r = await api('/v1/secrets/auth%2Fes/rotate', { token: operator, body: {} });
    expect(r.status).toBe(202);
    const kidsWhileRunning = new Set<string>();
    await until('the end', async () => {
      const rot = await api(`/v1/rotations/${r.json.rotationId}`, { token: viewer });
      if (rot.json.status !== 'running') return true;
      for (const k of (await jwks()).json.keys as { kid: string }[]) kidsWhileRunning.add(k.kid);
      return undefined;
    });
    const now = await keySet('auth/es');
    expect(now.kid).not.toBe(old.kid);
    expect(kidsWhileRunning.has(now.kid)).toBe(true);
    const res = await jwks();
    expect(res.headers.etag).not.toBe(etag);
    expect((res.json.keys as { kid: string }[]).map((k) => k.kid).indexOf(now.kid)).toBeLessThan((res.json.keys as { kid: string }[]).map((k) => k.kid).indexOf(old.kid));
    expect(await verifies(await sign(now))).toBe(true);
    expect(await verifies(oldToken)).toBe(true); // grace
    const retired = await api('/v1/secrets/auth%2Fes/retire', { token: operator, body: { force: true } });
    expect(retired.status).toBe(200);
    expect((await jwks()).json.keys.map((k: { kid: string }) => k.kid)).not.toContain(old.kid);
    expect(await verifies(oldToken)).toBe(false);
    expect(await verifies(await sign(now))).toBe(true);
  }, 30_000);

  it('RS256: a rotation publishes the new public key (n, e only) and a token it signs verifies', async () => {
    const r = await api('/v1/secrets/auth%2Frs/rotate', { token: operator, body: {} });
    await ended(r.json.rotationId);
    const now = await keySet('auth/rs');
    const published = ((await jwks()).json.keys as Record<string, string>[]).find((k) => k.kid === now.kid)!;
    expect(Object.keys(published).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(await verifies(await sign(now))).toBe(true);
  }, 30_000);
});

describe('emergency while a batch runs', () => {
  it('is accepted (202); every secret ends with one current value, the busy one is in the report, the audit chain holds', async () => {
    const running = await api('/v1/secrets/app%2Fslow/rotate', { token: operator, body: {} });
    expect(running.status).toBe(202);
    const e = await api('/v1/emergency', { body: { scope: 'all', incident: 'INC-7', reason: 'leaked laptop' } });
    expect(e.status).toBe(202);
    expect(e.json.secrets).toBe(4);
    const finished = await d.waitFor((l) => l.event === 'rotation.finished' && l.trigger === 'emergency' && l.secret === 'auth/rs', 30_000);
    expect(finished).toBeTruthy();
    await ended(running.json.rotationId);
    const payload = await until('emergency.finished', async () => payloads.find((p) => p.includes('emergency.finished')));
    expect(payload).toMatch(/INC-7/);
    for (const id of ['app/slow', 'app/key', 'auth/es', 'auth/rs']) {
      const h = await sb.json<History>(['history', id]);
      expect(h.versions.filter((v) => v.stage === 'current'), id).toHaveLength(1);
      expect(h.rotations.filter((r) => ['running', 'rolling-back'].includes(r.status)), id).toHaveLength(0);
    }
    await sb.ok(['audit', 'verify']);
  }, 60_000);
});

describe('OpenAPI', () => {
  it('/v1/openapi.json is OpenAPI 3.1 in shape and lists exactly the routes the server answers', async () => {
    const res = await api('/v1/openapi.json', { token: undefined });
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info?.title).toBe('string');
    expect(typeof doc.info?.version).toBe('string');
    const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
    const documented: string[] = [];
    const refs: string[] = [];
    JSON.stringify(doc, (k, v) => (k === '$ref' && refs.push(v), v));
    for (const ref of refs) {
      const target = ref.replace(/^#\//, '').split('/').reduce((o: Record<string, unknown> | undefined, p: string) => o?.[p] as Record<string, unknown> | undefined, doc);
      expect(target, ref).toBeTruthy();
    }
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses?: object; parameters?: { name: string; in: string }[] }>>)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, op] of Object.entries(item)) {
        expect(METHODS).toContain(method);
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
        for (const code of Object.keys(op.responses!)) expect(code).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
        const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared.sort(), `${method} ${path} path parameters`).toEqual(templated.sort());
        documented.push(`${method.toUpperCase()} ${path}`);
      }
    }
    const answered = [
      ...ROUTES.map((r) => `${r.method} ${r.path.replace('app%2Fkey', '{id}')}`),
      ...OPEN_ROUTES,
    ];
    expect(documented.sort()).toEqual(answered.sort());
    // And each documented route is one the server has (a 404 from it is an unknown id, not "no route").
    for (const route of documented) {
      const [method, path] = route.split(' ') as [string, string];
      const r = await api(path.replace('{id}', 'app%2Fkey').replace('{rotationId}', 'r-none'), { method, ...(method === 'POST' ? { body: { bogus: 1 } } : {}) });
      expect(r.json?.kind ?? '', route).not.toBe('NotFound');
    }
    for (const [method, path] of [['DELETE', '/v1/secrets/app%2Fkey'], ['PUT', '/v1/secrets/app%2Fkey'], ['GET', '/v1/tokens'], ['POST', '/v1/secrets']]) {
      const r = await api(path!, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(isErrorBody(r.json)).toBe(true);
    }
  });
});

describe('leak canary', () => {
  it('no value of any version of any secret (JWT private key members too), token or webhook key is in any response, log line, /metrics or webhook payload', async () => {
    const canaries = new Set<string>();
    for (const id of ['app/slow', 'app/key', 'auth/es', 'auth/rs']) {
      const h = await sb.json<History>(['history', id]);
      for (const v of h.versions) {
        if (!['current', 'previous'].includes(v.stage) && v.stage !== 'retired') continue;
        const value = await sb.run(['get', id, '--version', String(v.version)]);
        if (value.code !== 0) continue; // retired values may be gone
        const text = value.stdout.trim();
        canaries.add(text);
        if (id.startsWith('auth/')) {
          for (const k of (JSON.parse(text) as KeySet).keys) for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const) if (k[m]) canaries.add(k[m] as string);
        }
      }
    }
    expect(canaries.size).toBeGreaterThan(8);
    for (const t of [admin, operator, viewer]) canaries.add(t.slice(-43));
    canaries.add(HOOK_SECRET);
    const metrics = await api('/metrics', { token: undefined });
    expect(metrics.status).toBe(200);
    expect(payloads.length).toBeGreaterThan(3);
    const corpus = { responses: seen.join('\n'), log: d.output(), metrics: metrics.text, webhooks: payloads.join('\n') };
    const leaks: string[] = [];
    for (const c of canaries) for (const [where, text] of Object.entries(corpus)) if (text.includes(c)) leaks.push(`${where}: ${c.slice(0, 12)}…`);
    expect(leaks).toEqual([]);
    expect(seen.length).toBeGreaterThan(30);
  }, 60_000);
});

describe('JWKS configuration', () => {
  it('HS256 with publish: true is a config error (exit 2, naming the field)', async () => {
    const bad = new Sandbox('version: 1\nsecrets:\n  - { id: auth/hs, type: jwt-keyset, algorithm: HS256, publish: true, grace: 1h }\n');
    try {
      const r = await bad.run(['serve', '--listen', '127.0.0.1:0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/publish/);
      expect(r.stderr).toMatch(/HS256/);
    } finally {
      bad.remove();
    }
  });

  it('a short grace (4s) still gets a Cache-Control max-age shorter than it', async () => {
    const short = new Sandbox('version: 1\nsecrets:\n  - { id: auth/es, type: jwt-keyset, algorithm: ES256, publish: true, grace: 4s }\n');
    const s = await (async () => {
      await short.ok(['init']);
      await short.ok(['rotate', '--all']);
      return startServe(short);
    })();
    try {
      const res = await call(s.port, '/.well-known/jwks.json');
      expect(res.json.keys).toHaveLength(1);
      expect(Number(/max-age=(\d+)/.exec(res.headers['cache-control']!)![1])).toBeLessThan(4);
    } finally {
      await s.stop();
      short.remove();
    }
  });
});
