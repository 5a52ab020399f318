/**
 * Issue 12, item 6: a JWKS outage must not take authentication down. Against a real HTTP
 * endpoint that answers 503 or never answers, and a jwksFile left empty or half-written:
 * the last good set keeps serving, failed refreshes back off, fetches time out, and past
 * `maxStaleMs` the verifier fails closed with a clear error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, jwksFile, jwksUrl, KeySetUnavailableError, type JwksSource } from '../../src/client/index.js';
import { jwks, startJwksServer, testKey, type JwksServer, type TestKey } from './jwks-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Settles with the promise's outcome, or 'pending' if it has not settled within `ms`. */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then((v) => ({ ok: v }), (e: unknown) => ({ err: e })), sleep(ms).then(() => 'pending' as const)]);

let key: TestKey;
let token: string;
const servers: JwksServer[] = [];
beforeAll(async () => {
  key = await testKey('k1');
  token = await key.sign({ sub: 'alice' });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const serve = async () => {
  const s = await startJwksServer(jwks(key));
  servers.push(s);
  return s;
};

describe('JWKS endpoint answering 503', () => {
  it('keeps verifying known-kid tokens from the last good set, with a handful of requests for 1,000 verifications in 1 s', async () => {
    const server = await serve();
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), maxAgeMs: 100 });
    expect((await verifier.verify(token)).payload.sub).toBe('alice');
    expect(server.hits).toBe(1);

    server.mode = 503;
    await sleep(150); // the set is past maxAgeMs: every verification below wants a refresh
    let verified = 0;
    const start = Date.now();
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.allSettled(Array.from({ length: 100 }, () => verifier.verify(token)));
      verified += results.filter((r) => r.status === 'fulfilled').length;
      await sleep(Math.max(0, start + (batch + 1) * 100 - Date.now()));
    }
    expect(verified).toBe(1000);
    // Backoff: the first failure at once, the next after 0.5–1 s, then 1–2 s.
    expect(server.hits - 1).toBeGreaterThanOrEqual(1);
    expect(server.hits - 1).toBeLessThanOrEqual(3);
    expect(verifier.stats()).toMatchObject({ kids: ['k1'], consecutiveFailures: server.hits - 1, lastError: expect.stringMatching(/HTTP 503/) });

    server.mode = 'ok'; // the next refresh the backoff allows succeeds
    for (let i = 0; i < 50 && verifier.stats().consecutiveFailures > 0; i++) {
      await verifier.verify(token);
      await sleep(100);
    }
    expect(verifier.stats()).toMatchObject({ consecutiveFailures: 0, lastError: undefined });
  });

  it('refuses with KeySetUnavailableError when no set was ever fetched, without one request per token', async () => {
    const server = await serve();
    server.mode = 503;
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url) });
    const results = await Promise.allSettled(Array.from({ length: 500 }, () => verifier.verify(token)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(KeySetUnavailableError);
    }
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/no key set yet: GET .* HTTP 503/);
    expect(server.hits).toBe(1);
  });
});

describe('JWKS endpoint that never answers', () => {
  it('returns a verification within fetchTimeoutMs, from the last good set, and later ones at once', async () => {
    const server = await serve();
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), maxAgeMs: 100, fetchTimeoutMs: 300 });
    await verifier.verify(token);
    server.mode = 'hang';
    await sleep(150);
    const t0 = Date.now();
    const first = await within(verifier.verify(token), 3000);
    expect(first).toMatchObject({ ok: { payload: { sub: 'alice' } } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(1500);
    const t1 = Date.now();
    await verifier.verify(token); // backing off: no waiting
    expect(Date.now() - t1).toBeLessThan(100);
    expect(verifier.stats().lastError).toMatch(/longer than 300 ms/);
  });

  it('rejects within fetchTimeoutMs when there is no set yet (the default timeout is a few seconds)', async () => {
    const server = await serve();
    server.mode = 'hang';
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), fetchTimeoutMs: 300 });
    const t0 = Date.now();
    const outcome = await within(verifier.verify(token), 3000);
    expect(outcome).not.toBe('pending');
    expect((outcome as { err: Error }).err).toBeInstanceOf(KeySetUnavailableError);
    expect(Date.now() - t0).toBeLessThan(1500);

    const byDefault = createTokenVerifier({ jwks: jwksUrl(server.url) });
    const t2 = Date.now();
    const late = await within(byDefault.verify(token), 9000);
    expect(late).not.toBe('pending');
    expect(Date.now() - t2).toBeGreaterThanOrEqual(4500);
  }, 20_000);
});

describe('jwksFile left empty or half-written', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps verifying a known kid after maxAgeMs, and reads the broken file a bounded number of times', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rotor-jwks-'));
    const path = join(dir, 'jwks.json');
    const good = jwks(key);
    writeFileSync(path, good);
    let reads = 0;
    const file = jwksFile(path);
    const source: JwksSource = (ctx) => (reads++, file(ctx));
    let clock = Date.now();
    const verifier = createTokenVerifier({ jwks: source, now: () => clock });
    await verifier.verify(token);

    for (const broken of ['', good.slice(0, Math.floor(good.length / 2))]) {
      writeFileSync(path, broken);
      clock += 61_000; // past maxAgeMs (60 s) and past any backoff so far
      const before = reads;
      for (let i = 0; i < 1000; i++) expect((await verifier.verify(token)).payload.sub).toBe('alice');
      expect(reads - before).toBe(1); // one refresh, then backoff: not one read per token
      expect(verifier.stats().lastError).toMatch(broken === '' ? /not JSON \(empty\)/ : /not JSON \(truncated/);
    }

    writeFileSync(path, good);
    clock += 61_000;
    await verifier.verify(token);
    expect(verifier.stats()).toMatchObject({ consecutiveFailures: 0, failedRefreshes: 2 });
  });
});

describe('past maxStaleMs', () => {
  it('refuses every token with KeySetUnavailableError naming the failure (fail closed), and recovers with the endpoint', async () => {
    const server = await serve();
    let clock = Date.now();
    const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), now: () => clock, maxAgeMs: 60_000, maxStaleMs: 120_000 });
    await verifier.verify(token);
    server.mode = 503;
    const t0 = clock;
    for (const at of [61_000, 120_000, 179_000, 180_000]) {
      clock = t0 + at;
      expect((await verifier.verify(token)).payload.sub).toBe('alice');
    }
    clock = t0 + 180_001;
    const err = await verifier.verify(token).then(() => undefined, (e: unknown) => e as KeySetUnavailableError);
    expect(err).toBeInstanceOf(KeySetUnavailableError);
    expect(err?.message).toMatch(/key set is 180 s old and every refresh since has failed \(GET .* HTTP 503\)/);
    expect(err?.cause).toBeInstanceOf(Error);

    server.mode = 'ok';
    clock += 31_000; // past the longest backoff (maxBackoffMs, 30 s)
    expect((await verifier.verify(token)).payload.sub).toBe('alice');
  });
});
