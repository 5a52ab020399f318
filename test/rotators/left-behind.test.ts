/**
 * SPEC "Nothing left behind", at the rotator contract, against real servers: each strategy
 * driven the way the engine drives it (generate, apply, verify, then retire and
 * checkRejected), starting from a login that already had a password before Rotor.
 *
 * - First retire (`retiring` undefined): the target ends up accepting `current` and nothing
 *   else for the secret, and checkRejected proves it from the server's own records — and
 *   says `rejected: false` when someone puts an old credential back.
 * - `rotor adopt` with a bare password (adoptValue): the whole value of the login clients
 *   use today, which logs in (verify), leads to the clone next (alternating), and is revoked
 *   by the retire that follows.
 *
 * The engine is left out on purpose: these run whatever the engine does on a first rotation.
 * No detail any method returns may hold a password.
 */
import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rotator, RotatorDefinition, SecretValue, TargetRef } from '../../src/rotators/types.js';
import { postgresDefinition } from '../../src/rotators/postgres-password/index.js';
import { mysqlDefinition } from '../../src/rotators/mysql-password/index.js';
import { redisDefinition } from '../../src/rotators/redis-acl/index.js';
import { createPostgresRotator } from '../../src/rotators/postgres-password/rotator.js';
import { createMysqlRotator } from '../../src/rotators/mysql-password/rotator.js';
import { createRedisRotator } from '../../src/rotators/redis-acl/rotator.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { startMariadb, type MariadbServer } from '../helpers/servers/mariadb.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { mysqlAccepts, pgAccepts, redisAccepts, type DbValue } from '../helpers/logins.js';
import { connectWhenReady } from './pg-ready.js';

let postgres: PostgresServer;
let mariadb: MariadbServer;
let redis: RedisServer;
let pgAdmin: pg.Client;
let myAdmin: mysql.Connection;
let redisAdmin: Redis;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [postgres, mariadb, redis] = await Promise.all([startPostgres(), startMariadb(), startRedis()]);
  pgAdmin = await connectWhenReady(postgres.url);
  myAdmin = await mysql.createConnection({ host: mariadb.host, port: mariadb.port, user: 'root', password: mariadb.password, multipleStatements: true });
  await myAdmin.query('CREATE DATABASE shop; CREATE TABLE shop.items (n int); INSERT INTO shop.items VALUES (7)');
  redisAdmin = new Redis(redis.url);
}, 120_000);
afterAll(async () => {
  for (const close of closers) await close();
  await pgAdmin?.end();
  await myAdmin?.end();
  redisAdmin?.disconnect();
  await Promise.all([postgres?.stop(), mariadb?.stop(), redis?.stop()]);
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** One secret's rotator, driven as the engine drives it. */
class Driver<Spec, Value extends SecretValue & DbValue> {
  readonly details: string[] = [];
  private readonly base: { secretId: string; spec: Spec; target: TargetRef; signal: AbortSignal };

  constructor(readonly rotator: Rotator<Spec, Value>, def: RotatorDefinition<string, Spec, Value>, spec: unknown, target: TargetRef) {
    this.base = { secretId: 'test/left-behind', spec: def.schema.parse(spec), target, signal: new AbortController().signal };
    closers.push(() => rotator.close());
  }

  /** create, apply, verify: the new value, live. */
  async rotate(version: number, current: Value | undefined): Promise<Value> {
    const { value } = await this.rotator.generate({ ...this.base, version, current });
    this.note((await this.rotator.apply({ ...this.base, pending: value, current })).detail);
    this.note((await this.rotator.verify({ ...this.base, value })).detail);
    return value;
  }

  async retire(retiring: Value | undefined, current: Value) {
    this.note((await this.rotator.retire({ ...this.base, retiring, current, emergency: false, force: false })).detail);
    return this.check(retiring, current);
  }

  async check(retired: Value | undefined, current: Value) {
    const check = await this.rotator.checkRejected({ ...this.base, retired, current });
    this.note(check.detail);
    return check;
  }

  async adopt(input: string): Promise<Value> {
    if (!this.rotator.adoptValue) throw new Error('the rotator has no adoptValue');
    const { value } = await this.rotator.adoptValue({ ...this.base, input });
    this.note((await this.rotator.verify({ ...this.base, value })).detail);
    return value;
  }

  private note(detail: string | undefined) {
    if (detail) this.details.push(detail);
  }

  /** No password of any value appears in what the rotator reported. */
  expectNoPasswords(...passwords: string[]) {
    const text = this.details.join('\n');
    for (const p of passwords) expect(text).not.toContain(p);
  }
}

const pgDriver = (spec: object, url = postgres.url) =>
  new Driver(createPostgresRotator({ now: Date.now, baseDir: '.' }), postgresDefinition, spec, { name: 'db', type: 'postgres', url });
const myDriver = (spec: object) =>
  new Driver(createMysqlRotator({ now: Date.now, baseDir: '.' }), mysqlDefinition, spec, { name: 'db', type: 'mysql', url: mariadb.url });
const redisDriver = (spec: object) =>
  new Driver(createRedisRotator({ now: Date.now, baseDir: '.' }), redisDefinition, spec, { name: 'cache', type: 'redis', url: redis.url });

const pgLogin = (username: string, password: string) => ({ username, password, host: postgres.host, port: postgres.port, database: 'postgres' });
const myLogin = (username: string, password: string) => ({ username, password, host: mariadb.host, port: mariadb.port });
const redisLogin = (username: string, password: string) => ({ username, password, host: redis.host, port: redis.port });

async function pgCanLogin(role: string): Promise<boolean | undefined> {
  return (await pgAdmin.query<{ can: boolean }>('SELECT rolcanlogin AS can FROM pg_roles WHERE rolname = $1', [role])).rows[0]?.can;
}

async function redisPasswords(user: string): Promise<string[] | undefined> {
  const reply = (await redisAdmin.call('ACL', 'GETUSER', user)) as unknown[] | null;
  return reply ? (reply[reply.indexOf('passwords') + 1] as string[]) : undefined;
}

describe('postgres-password: the first retire revokes what Rotor never held', () => {
  it('alternating: the original login gets NOLOGIN, so its pre-Rotor password stops working; putting LOGIN back fails the proof', async () => {
    await pgAdmin.query("CREATE ROLE lb_alt LOGIN PASSWORD 'pre rotor pass 1'; CREATE TABLE lb_alt_data (n int); INSERT INTO lb_alt_data VALUES (1); GRANT SELECT ON lb_alt_data TO lb_alt");
    const pre = pgLogin('lb_alt', 'pre rotor pass 1');
    const d = pgDriver({ strategy: 'alternating', username: 'lb_alt' });
    const v1 = await d.rotate(1, undefined);
    expect(v1.username).toBe('lb_alt_clone');
    expect(await pgAccepts(pre)).toBe(true); // grace: services still on it until they get v1
    const check = await d.retire(undefined, v1);
    expect(check).toMatchObject({ rejected: true, detail: expect.stringMatching(/lb_alt is NOLOGIN/) });
    expect(await pgAccepts(pre)).toBe(false);
    expect(await pgCanLogin('lb_alt')).toBe(false);
    const c = new pg.Client({ ...v1, user: v1.username });
    await c.connect();
    expect((await c.query('SELECT n FROM lb_alt_data')).rows).toEqual([{ n: 1 }]); // the clone still holds lb_alt's grants
    await c.end();

    await pgAdmin.query('ALTER ROLE lb_alt LOGIN');
    expect(await d.check(undefined, v1)).toEqual({ rejected: false, detail: expect.stringMatching(/lb_alt can still log in/) });
    d.expectNoPasswords('pre rotor pass 1', v1.password);
  });

  it('new-user: the original login gets NOLOGIN at the first retire; the new login keeps its privileges through membership', async () => {
    await pgAdmin.query("CREATE ROLE lb_nu LOGIN PASSWORD 'pre-rotor-password-2'; CREATE TABLE lb_nu_data (n int); INSERT INTO lb_nu_data VALUES (2); GRANT SELECT ON lb_nu_data TO lb_nu");
    const d = pgDriver({ strategy: 'new-user', username: 'lb_nu' });
    const v1 = await d.rotate(1, undefined);
    expect(v1.username).toBe('lb_nu_v1');
    expect(await d.retire(undefined, v1)).toMatchObject({ rejected: true, detail: expect.stringMatching(/lb_nu is NOLOGIN/) });
    expect(await pgAccepts(pgLogin('lb_nu', 'pre-rotor-password-2'))).toBe(false);
    const c = new pg.Client({ ...v1, user: v1.username });
    await c.connect();
    expect((await c.query('SELECT n FROM lb_nu_data')).rows).toEqual([{ n: 2 }]);
    await c.end();
    d.expectNoPasswords('pre-rotor-password-2', v1.password);
  });

  it('new-user with keepOriginal: the original keeps its login, and the proof says why', async () => {
    await pgAdmin.query("CREATE ROLE lb_keep LOGIN PASSWORD 'pre-rotor-password-3'");
    const d = pgDriver({ strategy: 'new-user', username: 'lb_keep', keepOriginal: true });
    const v1 = await d.rotate(1, undefined);
    expect(await d.retire(undefined, v1)).toEqual({ rejected: true, detail: expect.stringMatching(/lb_keep keeps its own password \(keepOriginal: true\)/) });
    expect(await pgAccepts(pgLogin('lb_keep', 'pre-rotor-password-3'))).toBe(true);
  });

  it('single: apply replaced the pre-Rotor password; the first retire proves the current one is the only one', async () => {
    await pgAdmin.query("CREATE ROLE lb_single LOGIN PASSWORD 'pre-rotor-password-4'");
    const d = pgDriver({ strategy: 'single', username: 'lb_single' });
    const v1 = await d.rotate(1, undefined);
    expect(await d.retire(undefined, v1)).toEqual({ rejected: true, detail: expect.stringMatching(/lb_single logs in with the current password/) });
    expect(await pgAccepts(pgLogin('lb_single', 'pre-rotor-password-4'))).toBe(false);
  });

  it('adopt, alternating: the bare password becomes the main login\'s whole value, the clone comes next, and the next retire revokes the adopted one', async () => {
    await pgAdmin.query("CREATE ROLE lb_adopt LOGIN PASSWORD 'short pw'");
    const d = pgDriver({ strategy: 'alternating', username: 'lb_adopt', host: '127.0.0.1' });
    const adopted = await d.adopt('short pw\n');
    expect(adopted).toEqual({ ...pgLogin('lb_adopt', 'short pw'), host: '127.0.0.1' });
    expect(postgresDefinition.valueSchema.parse(adopted)).toEqual(adopted); // an 8-character password with a space is a valid stored value
    const v2 = await d.rotate(2, adopted);
    expect(v2.username).toBe('lb_adopt_clone');
    expect(await d.retire(adopted, v2)).toMatchObject({ rejected: true });
    expect(await pgAccepts(adopted)).toBe(false);
    const v3 = await d.rotate(3, v2);
    expect(v3.username).toBe('lb_adopt');
    d.expectNoPasswords('short pw', v2.password, v3.password);
  });

  it('adopt, new-user: the original login is adopted and retired by the next rotation; keepOriginal refuses adoption; a bad password is refused unechoed', async () => {
    await pgAdmin.query("CREATE ROLE lb_adopt_nu LOGIN PASSWORD 'pre-rotor-password-5'");
    const d = pgDriver({ strategy: 'new-user', username: 'lb_adopt_nu' });
    const adopted = await d.adopt('pre-rotor-password-5');
    expect(adopted.username).toBe('lb_adopt_nu');
    const v2 = await d.rotate(2, adopted);
    expect(v2.username).toBe('lb_adopt_nu_v2');
    expect(await d.retire(adopted, v2)).toMatchObject({ rejected: true });
    expect(await pgCanLogin('lb_adopt_nu')).toBe(false);

    const keep = pgDriver({ strategy: 'new-user', username: 'lb_adopt_nu', keepOriginal: true });
    await expect(keep.adopt('pre-rotor-password-5')).rejects.toMatchObject({ outcome: 'usage', message: expect.stringMatching(/keepOriginal/) });
    const bad = keep.adopt('bad\u00e9password').catch((e: Error) => e);
    const err = (await bad) as Error;
    expect(err.message).not.toContain('bad');
    await expect(pgDriver({ strategy: 'single', username: 'lb_adopt_nu' }).adopt('line one\nline two')).rejects.toMatchObject({ outcome: 'usage' });
  });
});

describe('mysql-password (MariaDB): the first retire revokes what Rotor never held', () => {
  it('alternating: the original account is locked, so its pre-Rotor password stops working; unlocking it fails the proof', async () => {
    await myAdmin.query("CREATE USER 'lb_alt'@'%' IDENTIFIED BY 'pre-rotor-password-6'; GRANT SELECT ON shop.* TO 'lb_alt'@'%'");
    const pre = myLogin('lb_alt', 'pre-rotor-password-6');
    const d = myDriver({ strategy: 'alternating', username: 'lb_alt', database: 'shop' });
    const v1 = await d.rotate(1, undefined);
    expect(v1.username).toBe('lb_alt_clone');
    expect(await mysqlAccepts(pre)).toBe(true);
    expect(await d.retire(undefined, v1)).toMatchObject({ rejected: true, detail: expect.stringMatching(/lb_alt@% is locked/) });
    expect(await mysqlAccepts(pre)).toBe(false);
    expect(await mysqlAccepts(v1)).toBe(true);

    await myAdmin.query("ALTER USER 'lb_alt'@'%' ACCOUNT UNLOCK");
    expect(await d.check(undefined, v1)).toEqual({ rejected: false, detail: expect.stringMatching(/lb_alt@% is not locked/) });
    d.expectNoPasswords('pre-rotor-password-6', v1.password);
  });

  it('single: the first retire proves the current password is the account\'s only one', async () => {
    await myAdmin.query("CREATE USER 'lb_single'@'%' IDENTIFIED BY 'pre-rotor-password-7'");
    const d = myDriver({ strategy: 'single', username: 'lb_single' });
    const v1 = await d.rotate(1, undefined);
    expect(await d.retire(undefined, v1)).toMatchObject({ rejected: true, detail: expect.stringMatching(/lb_single logs in with the current password/) });
    expect(await mysqlAccepts(myLogin('lb_single', 'pre-rotor-password-7'))).toBe(false);
  });

  it('adopt, alternating: the main account\'s whole value; the clone comes next; the next retire locks the adopted account', async () => {
    await myAdmin.query("CREATE USER 'lb_adopt'@'%' IDENTIFIED BY 'old pw 8'; GRANT SELECT ON shop.* TO 'lb_adopt'@'%'");
    const d = myDriver({ strategy: 'alternating', username: 'lb_adopt', database: 'shop' });
    const adopted = await d.adopt('old pw 8\r\n');
    expect(adopted).toEqual({ ...myLogin('lb_adopt', 'old pw 8'), database: 'shop' });
    expect(mysqlDefinition.valueSchema.parse(adopted)).toEqual(adopted);
    const v2 = await d.rotate(2, adopted);
    expect(v2.username).toBe('lb_adopt_clone');
    expect(await d.retire(adopted, v2)).toMatchObject({ rejected: true });
    expect(await mysqlAccepts(adopted)).toBe(false);
    d.expectNoPasswords('old pw 8', v2.password);
  });
});

describe('redis-acl: the first retire revokes what Rotor never held', () => {
  it('dual-password: every password the user had before Rotor goes, in one ACL SETUSER; a password added back fails the proof', async () => {
    await redisAdmin.call('ACL', 'SETUSER', 'lb_dual', 'on', '>pre-rotor-password-a', '>pre-rotor-password-b', '~*', '+@all');
    const d = redisDriver({ strategy: 'dual-password', username: 'lb_dual' });
    const v1 = await d.rotate(1, undefined);
    expect(await redisAccepts(redisLogin('lb_dual', 'pre-rotor-password-a'))).toBe(true); // dual: old ones work until retire
    expect(await d.retire(undefined, v1)).toMatchObject({ rejected: true, detail: expect.stringMatching(/holds the current password and no other/) });
    expect(await redisPasswords('lb_dual')).toEqual([sha256(v1.password)]);
    for (const old of ['pre-rotor-password-a', 'pre-rotor-password-b']) expect(await redisAccepts(redisLogin('lb_dual', old))).toBe(false);
    expect(await redisAccepts(v1)).toBe(true);

    await redisAdmin.call('ACL', 'SETUSER', 'lb_dual', '>sneaked-back-in-1');
    expect(await d.check(undefined, v1)).toEqual({ rejected: false, detail: expect.stringMatching(/holds 1 password besides the current one/) });
    await redisAdmin.call('ACL', 'SETUSER', 'lb_dual', 'resetpass', 'nopass');
    expect((await d.check(undefined, v1)).rejected).toBe(false);
    d.expectNoPasswords('pre-rotor-password-a', 'pre-rotor-password-b', 'sneaked-back-in-1', v1.password);
  });

  it('alternating: the original user is switched off with its passwords removed', async () => {
    await redisAdmin.call('ACL', 'SETUSER', 'lb_alt', 'on', '>pre-rotor-password-c', '~lb:*', '+@all');
    const d = redisDriver({ strategy: 'alternating', username: 'lb_alt' });
    const v1 = await d.rotate(1, undefined);
    expect(v1.username).toBe('lb_alt_clone');
    expect(await d.retire(undefined, v1)).toMatchObject({ rejected: true, detail: expect.stringMatching(/lb_alt is off/) });
    expect(await redisAccepts(redisLogin('lb_alt', 'pre-rotor-password-c'))).toBe(false);
    expect(await redisPasswords('lb_alt')).toEqual([]);
    expect(await redisAccepts(v1)).toBe(true);
    await redisAdmin.call('ACL', 'SETUSER', 'lb_alt', 'on');
    expect(await d.check(undefined, v1)).toEqual({ rejected: false, detail: expect.stringMatching(/lb_alt is still on/) });
  });

  it('requirepass: a password added to default after apply is gone after retire', async () => {
    const d = redisDriver({ strategy: 'requirepass' });
    const v1 = await d.rotate(1, undefined);
    await redisAdmin.call('ACL', 'SETUSER', 'default', '>added-behind-rotors-back');
    expect(await d.retire(undefined, v1)).toMatchObject({ rejected: true });
    expect(await redisPasswords('default')).toEqual([sha256(v1.password)]);
    expect(await redisAccepts(redisLogin('default', 'added-behind-rotors-back'))).toBe(false);
    d.expectNoPasswords('added-behind-rotors-back', v1.password);
  });

  it('adopt, dual-password: the adopted password and any other the user had are gone after the next retire', async () => {
    await redisAdmin.call('ACL', 'SETUSER', 'lb_adopt', 'on', '>adopted one', '>forgotten-password-d', '~*', '+@all');
    const d = redisDriver({ strategy: 'dual-password', username: 'lb_adopt' });
    const adopted = await d.adopt('adopted one');
    expect(adopted).toEqual(redisLogin('lb_adopt', 'adopted one'));
    expect(redisDefinition.valueSchema.parse(adopted)).toEqual(adopted);
    const v2 = await d.rotate(2, adopted);
    expect(await d.retire(adopted, v2)).toMatchObject({ rejected: true });
    expect(await redisPasswords('lb_adopt')).toEqual([sha256(v2.password)]);
    d.expectNoPasswords('adopted one', 'forgotten-password-d', v2.password);
  });

  it('adopt, alternating: the main user is adopted and the clone comes next', async () => {
    await redisAdmin.call('ACL', 'SETUSER', 'lb_adopt_alt', 'on', '>pre-rotor-password-e', '~*', '+@all');
    const d = redisDriver({ strategy: 'alternating', username: 'lb_adopt_alt' });
    const adopted = await d.adopt('pre-rotor-password-e');
    expect(adopted.username).toBe('lb_adopt_alt');
    const v2 = await d.rotate(2, adopted);
    expect(v2.username).toBe('lb_adopt_alt_clone');
    expect(await d.retire(adopted, v2)).toMatchObject({ rejected: true });
    expect(await redisAccepts(adopted)).toBe(false);
  });
});
