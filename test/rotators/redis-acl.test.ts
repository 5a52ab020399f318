/**
 * `redis-acl` against a private Redis that keeps its users in an ACL file: each strategy
 * through rotations, grace, retire and the proof that old passwords are refused; the ACL
 * file after each change (a restart keeps it); drain for alternating; rules taken from the
 * main user leave the clone; preflight (an admin that is the rotated user, an admin that
 * may not list clients); password rules in any case refused; what `rotor plan` says retire
 * revokes; and the admin connection's bytes searched for plaintext passwords. (The first
 * retire of a user from before Rotor: left-behind.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { redisAccepts } from '../helpers/logins.js';
import { recordingProxy } from '../helpers/recording-proxy.js';
import { expectServerAgrees, storedValues, type HistoryJson } from '../helpers/db-history.js';
import { hasPasswordRule } from '../../src/rotators/redis-acl/schema.js';

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

  it('password rules are refused in `rules` whatever their case, as Redis reads them', async () => {
    for (const rule of ['NOPASS', 'ResetPass']) {
      const sb = sandbox(`  - { id: cache/case, type: redis-acl, target: cache, strategy: alternating, username: u_case, rules: "~* ${rule} +@all" }\n`);
      const r = await sb.run(['plan']);
      expect(r.code, rule).toBe(2);
      expect(r.stderr).toMatch(/secrets\.0\.rules: password rules .* are managed by Rotor/);
      expect(await admin.call('ACL', 'GETUSER', 'u_case_clone')).toBeNull();
    }
    for (const rule of ['NOPASS', 'nopass', 'ResetPass', 'reset', 'RESET', '>x', '<x', '#' + 'a'.repeat(64), '!' + 'a'.repeat(64)]) {
      expect(hasPasswordRule(`~* ${rule} +@all`), rule).toBe(true);
    }
    for (const rule of ['~reset:*', '+@all', 'resetkeys', 'resetchannels', 'allkeys', '%R~x']) expect(hasPasswordRule(rule), rule).toBe(false);
  });

  it('requirepass is refused at plan and rotate time when the admin connection is the default user itself, saying how to make an ACL admin', async () => {
    await admin.call('ACL', 'SETUSER', 'default', 'on', '>default-as-admin-pw-1');
    const sb = sandbox('  - { id: cache/self, type: redis-acl, target: cache, strategy: requirepass }\n');
    sb.baseEnv.REDIS_ADMIN_URL = `redis://:default-as-admin-pw-1@127.0.0.1:${server.port}`;
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/PROBLEM: the admin connection of target cache \(127\.0\.0\.1:\d+\) authenticates as default, the user this secret rotates[\s\S]*→ create an ACL admin user .*ACL SETUSER rotor on >… \+acl \+config\|get \+config\|rewrite \+client\|list \+info/);
    const rotate = await sb.run(['rotate', 'cache/self']);
    expect(rotate.code).toBe(2);
    expect(rotate.stdout).toMatch(/REFUSED/);
    expect(await redisAccepts({ username: 'default', password: 'default-as-admin-pw-1', host: server.host, port: server.port })).toBe(true);
    expect(plan.stdout + plan.stderr + rotate.stdout + rotate.stderr).not.toContain('default-as-admin-pw-1');
  });

  it('alternating is refused when the admin may not run CLIENT LIST, which drain needs, naming the ACL to grant', async () => {
    await admin.call('ACL', 'SETUSER', 'limited-admin', 'on', '>limited-admin-pw-1', '+acl', '+config|get', '+config|rewrite', '+info');
    const url = `redis://limited-admin:limited-admin-pw-1@127.0.0.1:${server.port}`;
    const sb = sandbox('  - { id: cache/cl, type: redis-acl, target: cache, strategy: alternating, username: svc_cl, rules: "~* +@all" }\n');
    sb.baseEnv.REDIS_ADMIN_URL = url;
    await sb.ok(['init']);
    const plan = await sb.run(['plan']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/PROBLEM: the admin user limited-admin of target cache .* may not list clients \(CLIENT LIST\), which drain needs[\s\S]*→ ACL SETUSER limited-admin \+client\|list/);
    // dual-password has no drain: the same admin may rotate it.
    const dual = sandbox('  - { id: cache/cl2, type: redis-acl, target: cache, strategy: dual-password, username: svc_cl2, rules: "~* +@all" }\n');
    dual.baseEnv.REDIS_ADMIN_URL = url;
    await dual.ok(['init']);
    await dual.ok(['plan']);
  });

  it('alternating without `rules`: a rule taken from the main user is gone from the clone when the clone is next set, and the main keeps its own rules', async () => {
    await admin.call('ACL', 'SETUSER', 'svc_rules', 'on', '>pre-rotor-pw-1', '~svc:*', '~other:*', '+@all');
    const sb = sandbox('  - { id: cache/rules, type: redis-acl, target: cache, strategy: alternating, username: svc_rules }\n');
    await sb.ok(['init']);
    const canWrite = async (key: string) => {
      const v = await expectServerAgrees(sb, 'cache/rules', redisAccepts);
      const c = new Redis({ ...v, lazyConnect: true });
      await c.connect();
      try {
        await c.set(key, '1');
        return true;
      } catch (err) {
        if (/NOPERM/.test((err as Error).message)) return false;
        throw err;
      } finally {
        c.disconnect();
      }
    };
    await sb.ok(['rotate', 'cache/rules', '--no-grace']); // svc_rules_clone, with the main's rules
    expect(await canWrite('other:k')).toBe(true);
    // Taken from the main while the clone is current: the next rotation sets the main and must not bring it back.
    await admin.call('ACL', 'SETUSER', 'svc_rules', 'resetkeys', '~svc:*');
    await sb.ok(['rotate', 'cache/rules', '--no-grace']); // svc_rules
    expect(await canWrite('other:k')).toBe(false);
    await sb.ok(['rotate', 'cache/rules', '--no-grace']); // svc_rules_clone
    expect(await canWrite('other:k')).toBe(false);
    expect(await canWrite('svc:k')).toBe(true);
  });

  it('plan names what retire revokes, including passwords set before Rotor', async () => {
    const sb = sandbox([
      '  - { id: cache/p-dual, type: redis-acl, target: cache, strategy: dual-password, username: app }',
      '  - { id: cache/p-alt, type: redis-acl, target: cache, strategy: alternating, username: app }',
      '  - { id: cache/p-req, type: redis-acl, target: cache, strategy: requirepass }',
      '',
    ].join('\n'));
    await sb.ok(['init']);
    const plan = (await sb.ok(['plan', '--offline'])).stdout;
    expect(plan).toMatch(/retire +ACL SETUSER app resetpass #<sha256 of current>: removes every password of app except the current one, including any set before Rotor/);
    expect(plan).toMatch(/retire +.*whichever of app \/ app_clone is not current — on the first rotation app itself — then ACL SETUSER it off resetpass: every password it has, including any set before Rotor, stops working/);
    expect(plan).toMatch(/retire +ACL SETUSER default resetpass #<sha256 of current> .*removes every password of default except the current one, including any set before Rotor/);
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
