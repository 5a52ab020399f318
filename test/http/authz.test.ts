/**
 * The API's door, against a real `rotor serve`: every route × no token, a malformed one, a
 * wrong one (right prefix and id, wrong secret), a revoked one (revoked while the daemon
 * runs), and each role. A refused call is 401/403/429 with `{error, kind, hint}` and changes
 * nothing (history, values' fingerprints, audit log). Then bad input at the boundary and a
 * few hostile-client habits: the failed-auth limiter, X-Forwarded-For, many slow
 * connections, a name revoked and made again.
 *
 * Each group of failing calls comes from its own loopback address (127.0.0.x), since the
 * limiter counts failures per address.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/daemon.js';
import { Sandbox } from '../helpers/sandbox.js';
import { call, isErrorBody, type Res } from './client.js';
import { RANK, ROUTES, type Role } from './routes.js';

let sb: Sandbox;
let d: ServeProcess;
const tokens: Record<string, string> = {};
let rotationId = '';
const path = (r: (typeof ROUTES)[number]) => r.path.replace('{rotationId}', rotationId);

/** What a refused call must not change: each secret's history and the audit log. */
async function snapshot(): Promise<string> {
  const parts: string[] = [];
  for (const id of ['app/key', 'app/other']) parts.push(JSON.stringify(await sb.json(['history', id])));
  const audit = (await sb.ok(['audit', 'export'])).stdout.trim().split('\n');
  parts.push(`audit events: ${audit.length}`);
  return parts.join('\n');
}

beforeAll(async () => {
  sb = new Sandbox(`version: 1
serve: { tick: 200ms, metricsToken: true }
secrets:
  - { id: app/key, type: random, length: 32, grace: 1h }
  - { id: app/other, type: random, length: 32, grace: 1h }
`);
  await sb.ok(['init']);
  await sb.ok(['rotate', '--all']);
  await sb.ok(['rotate', 'app/key']); // a previous in grace: rollback and retire would have something to do
  for (const role of ['viewer', 'operator', 'admin'] as Role[]) tokens[role] = (await sb.ok(['token', 'create', '--role', role, '--name', role])).stdout.trim();
  tokens.doomed = (await sb.ok(['token', 'create', '--role', 'admin', '--name', 'doomed'])).stdout.trim();
  const h = await sb.json<{ rotations: { id: string }[] }>(['history', 'app/key']);
  rotationId = h.rotations.at(-1)!.id;
  d = await startServe(sb);
}, 60_000);

afterAll(async () => {
  await d?.stop();
  sb?.remove();
});

describe('authorization matrix', () => {
  it('tokens look as `rotor token create` says', () => {
    for (const t of Object.values(tokens)) expect(t).toMatch(/^rotor_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  });

  it('a revoked token works until `rotor token revoke`, and is refused on the very next request', async () => {
    const before = await call(d.port, '/v1/audit', { token: tokens.doomed, from: '127.0.0.10' });
    expect(before.status).toBe(200);
    await sb.ok(['token', 'revoke', 'doomed']);
    const after = await call(d.port, '/v1/audit', { token: tokens.doomed, from: '127.0.0.10' });
    expect(after.status).toBe(401);
    expect(isErrorBody(after.json)).toBe(true);
  });

  it('every route refuses no token, a malformed one, a wrong one and a revoked one with 401, each role below the route\'s with 403, and nothing changes', async () => {
    const before = await snapshot();
    const id = /^rotor_([0-9a-f]{16})_/.exec(tokens.admin!)![1]!;
    const bad: { name: string; authorization?: string; from: string }[] = [
      { name: 'no token', from: '127.0.0.11' },
      { name: 'malformed', authorization: 'Bearer not-a-token', from: '127.0.0.12' },
      // The right prefix and a live admin's id; only the secret half is wrong.
      { name: 'wrong secret', authorization: `Bearer rotor_${id}_${'A'.repeat(43)}`, from: '127.0.0.13' },
      { name: 'revoked', authorization: `Bearer ${tokens.doomed}`, from: '127.0.0.14' },
      { name: 'basic scheme', authorization: `Basic ${Buffer.from(`x:${tokens.admin}`).toString('base64')}`, from: '127.0.0.15' },
      { name: 'two spaces', authorization: `Bearer  ${tokens.admin}`, from: '127.0.0.16' },
      { name: 'token with junk after it', authorization: `Bearer ${tokens.admin}x`, from: '127.0.0.17' },
    ];
    const problems: string[] = [];
    for (const r of ROUTES) {
      for (const b of bad) {
        const res = await call(d.port, path(r), { method: r.method, body: r.body, ...(b.authorization ? { authorization: b.authorization } : {}), from: b.from });
        if (res.status !== 401 || !isErrorBody(res.json)) problems.push(`${r.method} ${path(r)} with ${b.name}: ${res.status} ${res.text.slice(0, 200)}`);
      }
      for (const role of ['viewer', 'operator'] as Role[]) {
        if (RANK[role] >= RANK[r.need]) continue;
        const res = await call(d.port, path(r), { method: r.method, body: r.body, token: tokens[role], from: '127.0.0.18' });
        if (res.status !== 403 || !isErrorBody(res.json) || res.json.kind !== 'Forbidden') problems.push(`${r.method} ${path(r)} as ${role}: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(await snapshot()).toBe(before);
  }, 60_000);

  it('every role at or above the route\'s gets past the door (GET 200; POST with an unknown field 400, so nothing runs)', async () => {
    const before = await snapshot();
    const problems: string[] = [];
    for (const r of ROUTES) {
      for (const role of ['viewer', 'operator', 'admin'] as Role[]) {
        if (RANK[role] < RANK[r.need]) continue;
        const res = await call(d.port, path(r), { method: r.method, token: tokens[role], from: '127.0.0.19', ...(r.method === 'POST' ? { body: { ...(r.body as object), bogus: 1 } } : {}) });
        const want = r.method === 'GET' ? 200 : 400;
        if (res.status !== want) problems.push(`${r.method} ${path(r)} as ${role}: ${res.status} ${res.text.slice(0, 200)}`);
        if (r.method === 'POST' && !/bogus/.test(res.json?.error ?? '')) problems.push(`${path(r)}: the 400 does not name the unknown field: ${res.text}`);
      }
    }
    expect(problems).toEqual([]);
    expect(await snapshot()).toBe(before);
  }, 60_000);

  it('a name revoked and made again: the new token works, the old one stays refused', async () => {
    const first = (await sb.ok(['token', 'create', '--role', 'viewer', '--name', 'ci'])).stdout.trim();
    expect((await call(d.port, '/v1/secrets', { token: first, from: '127.0.0.20' })).status).toBe(200);
    await sb.ok(['token', 'revoke', 'ci']);
    const second = (await sb.ok(['token', 'create', '--role', 'viewer', '--name', 'ci'])).stdout.trim();
    expect(second).not.toBe(first);
    expect((await call(d.port, '/v1/secrets', { token: first, from: '127.0.0.20' })).status).toBe(401);
    expect((await call(d.port, '/v1/secrets', { token: second, from: '127.0.0.20' })).status).toBe(200);
    // Names are unique among live tokens only.
    const again = await sb.run(['token', 'create', '--role', 'admin', '--name', 'ci']);
    expect(again.code).toBe(2);
  });
});

describe('failed-auth limiter', () => {
  it('after many failures from one address: 429 with {error, kind, hint}, even for a valid token; other addresses are unaffected; X-Forwarded-For does not get around it', async () => {
    const from = '127.0.0.50';
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await call(d.port, '/v1/secrets', { authorization: `Bearer rotor_${'0'.repeat(16)}_${'x'.repeat(43)}`, from })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    const valid = await call(d.port, '/v1/secrets', { token: tokens.admin, from });
    expect(valid.status).toBe(429);
    expect(isErrorBody(valid.json)).toBe(true);
    expect((await call(d.port, '/v1/secrets', { token: tokens.admin, from, headers: { 'x-forwarded-for': '10.9.8.7' } })).status).toBe(429);
    expect((await call(d.port, '/v1/secrets', { token: tokens.admin, from: '127.0.0.51' })).status).toBe(200);
    // Open endpoints stay open to a blocked address (Prometheus and verifiers are not guessing).
    expect((await call(d.port, '/healthz', { from })).status).toBe(200);
  });
});

describe('bad input', () => {
  const from = '127.0.0.60';
  const post = (path: string, o: Parameters<typeof call>[2]) => call(d.port, path, { token: tokens.admin, from, method: 'POST', ...o });

  it('bodies: malformed JSON, wrong content type, unknown fields, wrong types, empty, not an object, > 16 KiB — each a clear JSON error, nothing changes', async () => {
    const before = await snapshot();
    const rotate = '/v1/secrets/app%2Fkey/rotate';
    const cases: [string, Res, number[]][] = [
      ['malformed JSON', await post(rotate, { rawBody: '{"reason": "x",' }), [400]],
      ['wrong content type', await post(rotate, { rawBody: 'reason=x', contentType: 'application/x-www-form-urlencoded' }), [400, 415]],
      ['text/plain JSON', await post(rotate, { rawBody: '{}', contentType: 'text/plain' }), [400, 415]],
      ['unknown field', await post(rotate, { body: { reason: 'x', force: true } }), [400]],
      ['wrong type', await post(rotate, { body: { noGrace: 'yes' } }), [400]],
      ['reason with a newline', await post(rotate, { body: { reason: 'a\nb' } }), [400]],
      ['incident with a space', await post(rotate, { body: { incident: 'INC 1' } }), [400]],
      ['array body', await post(rotate, { body: [] }), [400]],
      ['null body', await post(rotate, { rawBody: 'null' }), [400]],
      ['a string body', await post(rotate, { rawBody: '"x"' }), [400]],
      ['proto pollution', await post(rotate, { rawBody: '{"__proto__": {"noGrace": true}}' }), [400]],
      ['emergency without incident', await post('/v1/emergency', { body: { scope: 'all', reason: 'x' } }), [400]],
      ['emergency bad scope', await post('/v1/emergency', { body: { scope: 'everything', incident: 'I-1', reason: 'x' } }), [400]],
      ['retire force as string', await post('/v1/secrets/app%2Fkey/retire', { body: { force: 'true' } }), [400]],
      ['> 16 KiB', await post(rotate, { body: { reason: 'x'.repeat(17 * 1024) } }), [413]],
      ['> 16 KiB, chunked (no content-length)', await post(rotate, { rawBody: JSON.stringify({ reason: 'x'.repeat(17 * 1024) }), chunked: true }), [413]],
    ];
    const problems = cases.filter(([, res, want]) => !want.includes(res.status) || !isErrorBody(res.json)).map(([name, res]) => `${name}: ${res.status} ${res.text.slice(0, 300)}`);
    expect(problems).toEqual([]);
    expect(cases.find(([n]) => n === '> 16 KiB')![1].json.kind).toBe('PayloadTooLarge');
    expect(await snapshot()).toBe(before);
  }, 30_000);

  it('path ids: .., %2F variants, %00, unicode, very long, double-encoded, unknown — 400 or 404 with a JSON error, never another secret', async () => {
    const before = await snapshot();
    const get = (p: string) => call(d.port, p, { token: tokens.admin, from });
    const cases: [string, number[]][] = [
      ['/v1/secrets/..', [400, 404]],
      ['/v1/secrets/..%2Fapp%2Fkey', [400]],
      ['/v1/secrets/app%2F..%2Fother', [400]],
      ['/v1/secrets/app%2F..', [400]],
      ['/v1/secrets/%2E%2E%2Fapp%2Fkey', [400]],
      ['/v1/secrets/app%2Fkey%00', [400]],
      ['/v1/secrets/app%2Fkey%00..%2Fother', [400]],
      ['/v1/secrets/app%2Fk%C3%A9y', [400]],
      ['/v1/secrets/app%2F%F0%9F%94%91', [400]],
      ['/v1/secrets/app%252Fkey', [400, 404]],
      ['/v1/secrets/app%5Ckey', [400]],
      ['/v1/secrets/%2Fapp%2Fkey', [400]],
      ['/v1/secrets/APP%2FKEY', [400, 404]],
      ['/v1/secrets/app%2Fkey%20', [400]],
      ['/v1/secrets/app%E0%A4%A', [400]],
      [`/v1/secrets/app%2F${'a'.repeat(300)}`, [400, 404]],
      [`/v1/secrets/app%2F${'a'.repeat(100)}`, [400, 404]],
      ['/v1/secrets/app%2Fnope', [404]],
      ['/v1/secrets/app%2Fnope/history', [404]],
      ['/v1/rotations/r-nope', [404]],
      ['/v1/rotations/..%2F..%2Fsecrets', [400]],
      [`/v1/rotations/${'r'.repeat(65)}`, [400]],
    ];
    const problems: string[] = [];
    for (const [path, want] of cases) {
      const res = await get(path);
      if (!want.includes(res.status) || !isErrorBody(res.json)) problems.push(`${path.slice(0, 80)}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    for (const path of ['/v1/secrets/..%2Fapp%2Fkey/rotate', '/v1/secrets/app%2Fkey%00/rotate', '/v1/secrets/app%2Fnope/rotate', '/v1/secrets/app%2Fnope/retire', '/v1/secrets/app%2F..%2Fkey/rollback']) {
      const res = await post(path, { body: {} });
      if (![400, 404].includes(res.status) || !isErrorBody(res.json)) problems.push(`POST ${path}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
    // The encoded id that is right works, in either case of hex digit.
    expect((await get('/v1/secrets/app%2fkey')).status).toBe(200);
    expect(await snapshot()).toBe(before);
  }, 30_000);

  it('query parameters out of range or unknown: 400 with a JSON error', async () => {
    const problems: string[] = [];
    for (const q of ['/v1/secrets?limit=0', '/v1/secrets?limit=1001', '/v1/secrets?limit=abc', '/v1/secrets?limit=-1', '/v1/secrets?limit=1.5', '/v1/secrets?after=..%2Fx', '/v1/secrets?bogus=1',
      '/v1/secrets?limit=1&limit=2', '/v1/audit?limit=0', '/v1/audit?limit=10001', `/v1/audit?since=${'9'.repeat(50)}`, '/v1/audit?since=yesterday-ish', '/v1/audit?since=-5h']) {
      const res = await call(d.port, q, { token: tokens.admin, from });
      if (res.status !== 400 || !isErrorBody(res.json)) problems.push(`${q}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
    const page = await call(d.port, '/v1/secrets?limit=1', { token: tokens.viewer, from });
    expect(page.json.secrets).toHaveLength(1);
    const next = await call(d.port, `/v1/secrets?limit=1&after=${encodeURIComponent(page.json.next)}`, { token: tokens.viewer, from });
    expect(next.json.secrets[0].id).toBe('app/other');
  });
});

describe('a hostile client', () => {
  it('300 connections dribbling headers do not keep a valid request from being answered quickly', async () => {
    const sockets: Socket[] = [];
    await Promise.all(Array.from({ length: 300 }, (_, i) => new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: d.port, localAddress: `127.0.${1 + (i % 200)}.99` }, () => {
        s.write('GET /v1/secrets HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        resolve();
      });
      s.on('error', () => resolve());
      sockets.push(s);
    })));
    const timer = setInterval(() => sockets.forEach((s) => s.writable && s.write('a')), 200);
    try {
      const res = await call(d.port, '/v1/secrets', { token: tokens.viewer, from: '127.0.0.70' });
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(2000);
    } finally {
      clearInterval(timer);
      sockets.forEach((s) => s.destroy());
    }
  });

  it('no log line, response or error holds a token', () => {
    const out = d.output();
    for (const t of Object.values(tokens)) {
      expect(out).not.toContain(t);
      expect(out).not.toContain(t.slice(-43));
    }
  });
});
