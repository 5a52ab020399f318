/**
 * `redis-acl` against a private Redis that keeps its users in an ACL file: each strategy
 * through rotations, grace, retire and the proof that old passwords are refused; the ACL
 * file after each change (a restart keeps it); drain for alternating; preflight; and
 * the admin connection's bytes searched for plaintext passwords.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { redisAccepts } from '../helpers/logins.js';
import { recordingProxy } from '../helpers/recording-proxy.js';
import { expectServerAgrees, storedValues, type HistoryJson } from '../helpers/db-history.js';

let server: RedisServer;
let admin: Redis;
const sandboxes: Sandbox[] = [];


beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
}, 60_000);
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

function sandbox(secrets: string): Sandbox {
  const sb = new Sandbox(`version: 1\ntargets:\n  cache: { type: redis, url: "\${REDIS_ADMIN_URL}" }\nsecrets:\n${secrets}`);
  sb.baseEnv.REDIS_ADMIN_URL = server.url;
  sandboxes.push(sb);
  return sb;
}

describe.each([
  ['dual-password', 'svc_dual', 'rules: "~svc:* +@all"'],
  ['alternating', 'svc_alt', 'rules: "~svc:* +@all"'],
  ['requirepass', 'default', ''],
] as const)('redis-acl, %s', (strategy, user, rules) => {
  it('rotates three times: each current authenticates and may use its keys, each retired password is refused, the ACL file keeps it', async () => {
    const id = `cache/${strategy}`;
    const sb = sandbox(`  - { id: ${id}, type: redis-acl, target: cache, strategy: ${strategy}${strategy === 'requirepass' ? '' : `, username: ${user}`}${rules ? `, ${rules}` : ''} }\n`);
    await sb.ok(['init']);
    expect((await sb.ok(['plan'])).stdout).toMatch(/Redis 7\.\d+\.\d+; admin rotor-admin/);
    for (let i = 1; i <= 3; i++) {
      await sb.ok(['rotate', id, '--no-grace']);
      const current = await expectServerAgrees(sb, id, redisAccepts);
      const c = new Redis({ ...current, lazyConnect: true });
      await c.connect();
      await c.set('svc:probe', String(i));
      expect(await c.get('svc:probe')).toBe(String(i));
      c.disconnect();
    }
    const stored = await storedValues(sb, id);
    expect(stored.map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    if (strategy === 'alternating') expect(stored.map((v) => v.value.username)).toEqual([`${user}_clone`, user, `${user}_clone`]);
    else expect(stored.map((v) => v.value.username)).toEqual([user, user, user]);
    // ACL SAVE ran: the file on disk holds the current password's hash, so a restart keeps it.
    const file = readFileSync(server.aclFile, 'utf8');
    const { createHash } = await import('node:crypto');
    expect(file).toContain(createHash('sha256').update(stored[2]!.value.password).digest('hex'));
    expect(file).not.toContain(createHash('sha256').update(stored[1]!.value.password).digest('hex'));
    const h = await sb.json<HistoryJson>(['history', id]);
    expect(h.rotations.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe.each([
  ['dual-password', 'svc_dual_g'],
  ['alternating', 'svc_alt_g'],
] as const)('redis-acl, %s, with grace', (strategy, user) => {
  it('keeps the previous password working through grace, then retires it', async () => {
    const id = `cache/${user}`;
    const sb = sandbox(`  - { id: ${id}, type: redis-acl, target: cache, strategy: ${strategy}, username: ${user}, rules: "~* +@all", grace: 1h }\n`);
    await sb.ok(['init']);
    for (let i = 0; i < 3; i++) await sb.ok(['rotate', id]);
    expect((await storedValues(sb, id)).map((v) => v.stage)).toEqual(['retired', 'previous', 'current']);
    await expectServerAgrees(sb, id, redisAccepts);
    await sb.ok(['retire', '--force', id]);
    expect((await storedValues(sb, id)).map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    await expectServerAgrees(sb, id, redisAccepts);
  });
});

describe('redis-acl drain, preflight and leaks', () => {
  it('alternating holds the old user while a client is connected as it, naming the client', async () => {
    const sb = sandbox('  - { id: cache/drain, type: redis-acl, target: cache, strategy: alternating, username: svc_drain, rules: "~* +@all", grace: 1h, drain: { timeout: 1s } }\n');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'cache/drain']);
    const v1 = (await storedValues(sb, 'cache/drain'))[0]!.value;
    const holder = new Redis({ ...v1, connectionName: 'session-store', lazyConnect: true });
    await holder.connect();
    await sb.ok(['rotate', 'cache/drain']);
    const held = await sb.run(['retire', '--force', 'cache/drain']);
    expect(held.code).toBe(3);
    expect(held.stdout).toMatch(/held: 1 session \[127\.0\.0\.1:\d+ \(session-store\)\] still logged in as svc_drain_clone/);
    expect(await redisAccepts(v1)).toBe(true);
    holder.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    await sb.ok(['retire', '--force', 'cache/drain']);
    expect(await redisAccepts(v1)).toBe(false);
  });

  it('refuses at plan and rotate time a user that does not exist and has no rules to create it with', async () => {
    const sb = sandbox('  - { id: cache/ghost, type: redis-acl, target: cache, strategy: dual-password, username: ghost }\n');
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/ACL user ghost does not exist[\s\S]*give `rules`/);
    const rotate = await sb.run(['rotate', 'cache/ghost']);
    expect(rotate.code).toBe(2);
    expect(await admin.call('ACL', 'GETUSER', 'ghost')).toBeNull();
  });

  it('a bad config value is caught before the server is asked', async () => {
    const sb = sandbox('  - { id: cache/bad, type: redis-acl, target: cache, strategy: dual-password, username: u, rules: "~* >sneaky +@all" }\n');
    const r = await sb.run(['plan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rotor\.yaml:5:\d+: secrets\.0\.rules: password rules .* are managed by Rotor/);
  });

  it('the admin connection carries password hashes only: no password of any version on the wire', async () => {
    // Redis hides ACL SETUSER from MONITOR and the slow log, so the proof is taken on the wire.
    const proxy = await recordingProxy(server.port);
    try {
      const sb = sandbox('  - { id: cache/wire, type: redis-acl, target: cache, strategy: dual-password, username: svc_wire, rules: "~* +@all" }\n');
      sb.baseEnv.REDIS_ADMIN_URL = server.url.replace(`:${server.port}`, `:${proxy.port}`);
      await sb.ok(['init']);
      for (let i = 0; i < 3; i++) await sb.ok(['rotate', 'cache/wire', '--no-grace']);
      const passwords = (await storedValues(sb, 'cache/wire')).map((v) => v.value.password);
      const adminConns = proxy.sent.map((c) => Buffer.concat(c).toString()).filter((t) => t.includes('rotor\r\n') && t.includes('SETUSER'));
      expect(adminConns.length).toBeGreaterThan(0);
      for (const text of adminConns) {
        expect(text).toMatch(/#[0-9a-f]{64}/);
        for (const p of passwords) expect(text).not.toContain(p);
      }
    } finally {
      await proxy.close();
    }
  });
});
