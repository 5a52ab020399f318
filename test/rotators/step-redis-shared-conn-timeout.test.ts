/**
 * the redis-acl rotator shares one admin connection per target across every
 * rotation of a run (shared/admin-cache.ts), and a step timeout cuts a call off with
 * `a.conn.disconnect()` (redis-acl/rotator.ts `call`). So one secret's timeout drops the
 * connection under every other secret's in-flight command on that target: they fail and
 * roll back ("dropped the connection; ... make the server's aclfile writable"), though
 * nothing was wrong with them. Expected: a timeout only fails its own secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';

let server: RedisServer;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startRedis();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

describe('a step timeout of one redis secret', () => {
  it('does not fail the other secrets of the same target in the batch', async () => {
    const others = Array.from({ length: 12 }, (_, i) => `  - { id: cache/b${i}, type: redis-acl, target: cache, strategy: dual-password, username: b${i}, rules: "~b${i}:* +get" }\n`);
    const sb = new Sandbox(
      'version: 1\ntargets:\n  cache: { type: redis, url: "${REDIS_ADMIN_URL}" }\nsecrets:\n'
        + others.join('')
        + '  - { id: cache/slow, type: redis-acl, target: cache, strategy: dual-password, username: slow, rules: "~s:* +get", timeouts: { apply: 3ms } }\n',
    );
    sb.baseEnv.REDIS_ADMIN_URL = server.url;
    sandboxes.push(sb);
    await sb.ok(['init']);
    const r = await sb.run(['rotate', '--all', '--no-grace']);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/ROLLED BACK cache\/slow\s+at apply: apply of cache\/slow timed out/);
    const collateral = out.split('\n').filter((l) => /^ROLLED BACK cache\/b\d+/.test(l));
    expect(collateral, out).toEqual([]);
  }, 60_000);
});
