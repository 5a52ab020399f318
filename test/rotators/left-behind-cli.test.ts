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
import { connectPg, startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { startMariadb, type MariadbServer } from '../helpers/servers/mariadb.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { mysqlAccepts, pgAccepts, redisAccepts } from '../helpers/logins.js';
import { expectServerAgrees } from '../helpers/db-history.js';

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
  const c = await connectPg(postgres.url);
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

/** Runs rotor with `input` on stdin. */
const piped = (sb: Sandbox, args: string[], input: string) => sb.run(args, {}, input);

describe('adopt and set name only the secret\'s own login', () => {
  it('adopt refuses a whole value naming another role (exit 2, nothing stored); the bare password is completed into the right login', async () => {
    await pgRun("CREATE ROLE ad_app LOGIN PASSWORD 'ad-app-password-1'; CREATE ROLE ad_other LOGIN PASSWORD 'ad-other-password-1'");
    const sb = sandbox('postgres', postgres.url, '{ id: db/ad, type: postgres-password, target: t, strategy: new-user, username: ad_app }');
    await sb.ok(['init']);
    const other = JSON.stringify({ username: 'ad_other', password: 'ad-other-password-1', host: postgres.host, port: postgres.port, database: 'postgres' });
    const refused = await piped(sb, ['adopt', 'db/ad'], other);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not for this secret's login: it needs username "ad_app"/);
    expect(refused.stderr + refused.stdout).not.toContain('ad-other-password-1');
    expect((await sb.json<{ versions: unknown[] }>(['history', 'db/ad'])).versions).toEqual([]);

    expect((await piped(sb, ['adopt', 'db/ad'], 'ad-app-password-1')).code).toBe(0);
    await sb.ok(['rotate', 'db/ad', '--no-grace']);
    expect(await pgAccepts({ username: 'ad_other', password: 'ad-other-password-1', host: postgres.host, port: postgres.port })).toBe(true);
    expect(await pgAccepts({ username: 'ad_app', password: 'ad-app-password-1', host: postgres.host, port: postgres.port })).toBe(false);
  });

  it('set with a bare password on an alternating secret sets the login not in use, and a rollback then leaves a working current', async () => {
    await pgRun('CREATE ROLE set_alt NOLOGIN');
    const sb = sandbox('postgres', postgres.url, '{ id: db/set, type: postgres-password, target: t, strategy: alternating, username: set_alt, grace: 1h }');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/set', '--no-grace']);
    await sb.ok(['rotate', 'db/set', '--no-grace']);
    const before = JSON.parse((await sb.ok(['get', 'db/set'])).stdout) as { username: string };
    const set = await piped(sb, ['set', 'db/set'], 'SetByHandPassw0rd1');
    expect(set.code, set.stderr).toBe(0);
    const after = JSON.parse((await sb.ok(['get', 'db/set'])).stdout) as { username: string; password: string };
    expect(after.username).not.toBe(before.username);
    expect(after.password).toBe('SetByHandPassw0rd1');
    await sb.ok(['rollback', 'db/set']);
    await expectServerAgrees(sb, 'db/set', pgAccepts);
  });

  it('a value set is stored before the rotation is recorded: killed before create, resume finishes with that value', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: svc/token, type: random, length: 32, encoding: hex }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'svc/token']);
    const given = 'ab'.repeat(16);
    const killed = (await sb.run(['set', 'svc/token'], { ROTOR_CRASH_AT: 'create:before' }, given)).signal;
    expect(killed).toBe('SIGKILL');
    await sb.ok(['resume']);
    expect((await sb.ok(['get', 'svc/token'])).stdout.trim()).toBe(given);
  });
});

describe('an admin login that is the rotated login', () => {
  it('is refused at plan and rotate time (PostgreSQL): its first retire would lock Rotor out', async () => {
    await pgRun("CREATE ROLE self_adm LOGIN CREATEROLE PASSWORD 'self-adm-password-1'");
    const url = `postgres://self_adm:self-adm-password-1@${postgres.host}:${postgres.port}/postgres`;
    const sb = sandbox('postgres', url, '{ id: db/self, type: postgres-password, target: t, strategy: alternating, username: self_adm }');
    await sb.ok(['init']);
    const plan = await sb.run(['plan', 'db/self']);
    expect(plan.code).toBe(2);
    expect(plan.stdout + plan.stderr).toMatch(/admin login self_adm .* is the login this secret rotates/);
    expect((await sb.run(['rotate', 'db/self', '--no-grace'])).code).toBe(2);
    expect(await pgAccepts({ username: 'self_adm', password: 'self-adm-password-1', host: postgres.host, port: postgres.port })).toBe(true);
  });
});
