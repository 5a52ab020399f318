/**
 * Issue 12, item 7: a key published just now must verify within about a second, even right
 * after a garbage kid made the verifier refresh; and no flood of made-up kids may push the
 * refresh rate past one per `minRefreshIntervalMs` (1 s). Real endpoint, the verifier's clock
 * stepped by hand so the intervals are exact.
 */
import { afterEach, expect, it } from 'vitest';
import { createTokenVerifier, jwksUrl } from '../../src/client/index.js';
import { jwks, startJwksServer, testKey, type JwksServer } from './jwks-server.js';

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

it('finds a key published after a garbage-kid refresh within a second, not after the 30 s cooldown', async () => {
  const [a, b, stranger] = await Promise.all([testKey('a'), testKey('b'), testKey('x')]);
  const server = await startJwksServer(jwks(a));
  servers.push(server);
  let clock = Date.now();
  const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), now: () => clock });
  await verifier.verify(await a.sign());

  clock += 5_000;
  await expect(verifier.verify(await stranger.sign({}, { kid: 'garbage' }))).rejects.toThrow(/no applicable key/);
  expect(server.hits).toBe(2); // the garbage kid refreshed the set once

  server.body = jwks(a, b); // a rotation publishes b
  const published = clock;
  const tokenB = await b.sign({ sub: 'bob' });
  clock += 200;
  await expect(verifier.verify(tokenB)).rejects.toThrow(/no applicable key/); // within 1 s of the last refresh
  expect(server.hits).toBe(2);
  clock = published + 1_000;
  expect((await verifier.verify(tokenB)).payload.sub).toBe('bob');
  expect(server.hits).toBe(3);
});

it('a flood of made-up kids refreshes at most once per second, a repeated one once per cooldown, and a real new key still arrives within a second', async () => {
  const [a, b, forger] = await Promise.all([testKey('a'), testKey('b'), testKey('forger')]);
  const server = await startJwksServer(jwks(a));
  servers.push(server);
  let clock = Date.now();
  const verifier = createTokenVerifier({ jwks: jwksUrl(server.url), now: () => clock });
  await verifier.verify(await a.sign());
  const start = clock;

  // 1,000 tokens with random kids, 5 ms apart by the verifier's clock: 5 s.
  const forged = await Promise.all(Array.from({ length: 1000 }, (_, i) => forger.sign({}, { kid: `random-${i}-${Math.random()}` })));
  const tokenB = await b.sign({ sub: 'bob' });
  let publishedAt: number | undefined;
  let foundAt: number | undefined;
  for (const [i, t] of forged.entries()) {
    clock = start + 5 * (i + 1);
    await expect(verifier.verify(t)).rejects.toThrow(/no applicable key/);
    if (i === 500) {
      server.body = jwks(a, b);
      publishedAt = clock;
    }
    if (publishedAt !== undefined && foundAt === undefined && (await verifier.verify(tokenB).then(() => true, () => false))) foundAt = clock;
  }
  expect(server.hits - 1).toBeLessThanOrEqual(5); // 5 s of flood: one refresh per second at most
  expect(server.hits - 1).toBeGreaterThanOrEqual(4);
  expect(foundAt! - publishedAt!).toBeLessThanOrEqual(1_000);

  // One made-up kid over and over for 20 s: one refresh for it, then its 30 s cooldown.
  const repeated = await forger.sign({}, { kid: 'same-garbage' });
  const hits = server.hits;
  const from = clock + 2_000;
  for (let ms = 0; ms < 20_000; ms += 50) {
    clock = from + ms;
    await expect(verifier.verify(repeated)).rejects.toThrow(/no applicable key/);
  }
  expect(server.hits - hits).toBe(1);
});
