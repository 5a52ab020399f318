/**
 * SPEC "Nothing left behind" through the real CLI: a login that had a password before
 * Rotor, rotated for the first time without `rotor adopt`. After `rotor rotate --no-grace`
 * (and after `rotor emergency`, which must not report success while such a credential
 * works), the password from before Rotor is refused and the current one logs in.
 *
 * Needs the engine to call retire on a first rotation (`retiring: undefined`), which the
 * engine change of issue 10 brings; left-behind.test.ts proves the rotators' side alone.
 */
import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { startMariadb, type MariadbServer } from '../helpers/servers/mariadb.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { mysqlAccepts, pgAccepts, redisAccepts } from '../helpers/logins.js';
import { expectServerAgrees } from '../helpers/db-history.js';
import { connectWhenReady } from './pg-ready.js';

let postgres: PostgresServer;
let mariadb: MariadbServer;
let redis: RedisServer;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  [postgres, mariadb, redis] = await Promise.all([startPostgres(), startMariadb(), startRedis()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([postgres?.stop(), mariadb?.stop(), redis?.stop()]);
  for (const sb of sandboxes) sb.remove();
});

function sandbox(targetType: string, url: string, secret: string): Sandbox {
  const sb = new Sandbox(`version: 1\ntargets:\n  t: { type: ${targetType}, url: "\${ADMIN_URL}" }\nsecrets:\n  - ${secret}\n`);
  sb.baseEnv.ADMIN_URL = url;
  sandboxes.push(sb);
  return sb;
}

async function pgRun(sql: string): Promise<void> {
  const c = await connectWhenReady(postgres.url);
  await c.query(sql);
  await c.end();
}

describe('the first rotation revokes what Rotor never held', () => {
  it('postgres-password alternating: rotate --no-grace leaves the original login NOLOGIN', async () => {
    await pgRun("CREATE ROLE cli_alt LOGIN PASSWORD 'pre-rotor-password-1'");
    const pre = { username: 'cli_alt', password: 'pre-rotor-password-1', host: postgres.host, port: postgres.port };
    const sb = sandbox('postgres', postgres.url, '{ id: db/alt, type: postgres-password, target: t, strategy: alternating, username: cli_alt }');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/alt', '--no-grace']);
    expect(await pgAccepts(pre)).toBe(false);
    await expectServerAgrees(sb, 'db/alt', pgAccepts);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/cli_alt set NOLOGIN; cli_alt is NOLOGIN/);
  });

  it('postgres-password new-user: an emergency reports success only with the original login NOLOGIN', async () => {
    await pgRun("CREATE ROLE cli_nu LOGIN PASSWORD 'pre-rotor-password-2'");
    const sb = sandbox('postgres', postgres.url, '{ id: db/nu, type: postgres-password, target: t, strategy: new-user, username: cli_nu, priority: critical, grace: 1h }');
    await sb.ok(['init']);
    await sb.ok(['emergency', '--scope', 'critical', '--incident', 'INC-10', '--reason', 'pre-Rotor password leaked']);
    expect(await pgAccepts({ username: 'cli_nu', password: 'pre-rotor-password-2', host: postgres.host, port: postgres.port })).toBe(false);
    await expectServerAgrees(sb, 'db/nu', pgAccepts);
  });

  it('mysql-password alternating: rotate --no-grace locks the original account', async () => {
    const root = await mysql.createConnection({ host: mariadb.host, port: mariadb.port, user: 'root', password: mariadb.password });
    await root.query("CREATE USER 'cli_alt'@'%' IDENTIFIED BY 'pre-rotor-password-3'");
    await root.end();
    const sb = sandbox('mysql', mariadb.url, '{ id: db/my, type: mysql-password, target: t, strategy: alternating, username: cli_alt }');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/my', '--no-grace']);
    expect(await mysqlAccepts({ username: 'cli_alt', password: 'pre-rotor-password-3', host: mariadb.host, port: mariadb.port })).toBe(false);
    await expectServerAgrees(sb, 'db/my', mysqlAccepts);
  });

  it('redis-acl dual-password: rotate --no-grace leaves the user exactly the current password', async () => {
    const admin = new Redis(redis.url);
    await admin.call('ACL', 'SETUSER', 'cli_dual', 'on', '>pre-rotor-password-4', '~*', '+@all');
    const sb = sandbox('redis', redis.url, '{ id: cache/dual, type: redis-acl, target: t, strategy: dual-password, username: cli_dual }');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'cache/dual', '--no-grace']);
    expect(await redisAccepts({ username: 'cli_dual', password: 'pre-rotor-password-4', host: redis.host, port: redis.port })).toBe(false);
    const current = await expectServerAgrees(sb, 'cache/dual', redisAccepts);
    const reply = (await admin.call('ACL', 'GETUSER', 'cli_dual')) as unknown[];
    expect(reply[reply.indexOf('passwords') + 1]).toEqual([createHash('sha256').update(current.password).digest('hex')]);
    admin.disconnect();
  });
});
