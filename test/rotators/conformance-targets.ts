/**
 * The lines of the rotator conformance suite (conformance.ts): for each type × strategy, how
 * to reach its target and how to ask the target — never Rotor — what it accepts.
 *
 * - PostgreSQL: pg_authid (which roles can log in with a password) and real logins;
 * - MySQL/MariaDB: mysql.user (locked, plugin, hash) and real logins;
 * - Redis: ACL GETUSER (on/off, nopass, the SHA-256 of every password);
 * - jwt-keyset: the published key set file, verified with jose;
 * - keyring: the keyring delivered to a consumer, decrypting what a version encrypts;
 * - random: no target.
 *
 * Each server is started once per test file (`postgresTarget()` registers its hooks).
 *
 * @example
 * const redis = redisTarget();
 * runRotatorConformance(redisLine(redis, 'dual-password'));
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, generateSecret, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createKeyring } from '../../src/client/keyring.js';
import type { Json } from '../../src/rotators/types.js';
import { mysqlAccepts, pgAccepts, redisAccepts } from '../helpers/logins.js';
import { startMariadb } from '../helpers/servers/mariadb.js';
import { startPostgres } from '../helpers/servers/postgres.js';
import { startRedis } from '../helpers/servers/redis.js';
import type { TestServer } from '../helpers/servers/common.js';
import type { ConformanceLine, Ctx, Existing, Probe } from './conformance.js';
import { connectWhenReady } from './pg-ready.js';

/** A database or cache credential, as `rotor get` prints it. */
export type Login = { username: string; password: string; host: string; port: number; [field: string]: Json };

const password = () => randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const asDb = (v: Login) => ({ username: v.username, password: v.password, host: v.host, port: v.port, database: typeof v.database === 'string' && v.database ? v.database : undefined });

/** Starts one server for the test file and stops it after; `ready()` throws if it did not start. */
function shared<S, A>(start: () => Promise<S>, connect: (s: S) => Promise<A> | A, stop: (s: S, a: A) => Promise<void>) {
  let server: S | undefined;
  let admin: A | undefined;
  beforeAll(async () => {
    server = await start();
    admin = await connect(server);
  }, 120_000);
  afterAll(async () => {
    if (server !== undefined && admin !== undefined) await stop(server, admin);
  });
  return () => {
    if (server === undefined || admin === undefined) throw new Error('the test server did not start');
    return { server, admin };
  };
}

// ---------------------------------------------------------------- PostgreSQL

export function postgresTarget() {
  const ready = shared(startPostgres, async (s) => {
    // Under load the server listens before it takes logins ("starting up"): wait for one.
    await (await connectWhenReady(s.url)).end();
    const pool = new pg.Pool({ connectionString: s.url, max: 4 });
    pool.on('error', () => {});
    return pool;
  }, async (s, pool) => {
    await pool.end();
    await s.stop();
  });
  return {
    url: () => ready().server.url,
    port: () => ready().server.port,
    query: async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) => (await ready().admin.query<R>(text, params)).rows,
  };
}
export type PostgresTarget = ReturnType<typeof postgresTarget>;

export function postgresLine(t: PostgresTarget, strategy: 'single' | 'alternating' | 'new-user'): ConformanceLine<Login> {
  const prefix = { single: 'pgs', alternating: 'pga', 'new-user': 'pgn' }[strategy];
  /** The roles a secret's values log in as: the login, its clone, its per-version logins. */
  const roles = (login: string) => t.query<{ rolname: string; rolcanlogin: boolean; has_password: boolean; member_of: string[] }>(
    `SELECT r.rolname, r.rolcanlogin, r.rolpassword IS NOT NULL AS has_password,
            ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
       FROM pg_authid r WHERE r.rolname = $1 OR r.rolname = $1 || '_clone' OR r.rolname ~ ('^' || $1 || '_v[0-9]+$') ORDER BY 1`, [login]);
  const probe: Probe<Login> = {
    accepts: (_ctx, v) => pgAccepts(asDb(v)),
    async unexplained(_ctx, login, stored) {
      // PostgreSQL keeps one password per role: a role that can log in with one must be explained by a stored value.
      const out: string[] = [];
      for (const role of await roles(login)) {
        if (!role.rolcanlogin || !role.has_password) continue;
        let explained = false;
        for (const v of stored.filter((s) => s.username === role.rolname)) if (await pgAccepts(asDb(v))) explained = true;
        if (!explained) out.push(`role ${role.rolname} can log in with a password no stored value has`);
      }
      return out;
    },
    // SCRAM verifiers are salted afresh at every ALTER ROLE: compare what they allow, not their bytes.
    snapshot: (_ctx, login) => roles(login),
  };
  return {
    name: `postgres-password ${strategy}`,
    type: 'postgres-password',
    fields: (login) => ({ strategy, username: login, drain: { timeout: '10s' } }),
    target: { type: 'postgres', url: () => t.url() },
    login: (tag) => `${prefix}_${tag}`,
    inPlace: strategy === 'single',
    clean: async (_ctx, login) => void (await t.query(`CREATE ROLE ${login} NOLOGIN`)),
    async existing(_ctx, login) {
      const pw = password();
      await t.query(`CREATE ROLE ${login} LOGIN PASSWORD '${pw}'`);
      return { input: pw, value: { username: login, password: pw, host: '127.0.0.1', port: t.port(), database: 'postgres' }, refused: `not-${pw}` };
    },
    probe,
    secretsOf: (v) => [v.password],
  };
}

// ---------------------------------------------------------------- MySQL / MariaDB

/** A private MariaDB, or the MySQL server `url` names (ROTOR_TEST_MYSQL_URL), which is not ours: its users are removed after. */
export function mysqlTarget(url?: string) {
  const created: string[] = [];
  const ready = shared<{ url: string; port: number; stop(): Promise<void> }, mysql.Pool>(
    async () => (url ? { url, port: Number(new URL(url).port || 3306), stop: async () => {} } : startMariadb() as Promise<TestServer>),
    (s) => mysql.createPool({ uri: s.url, connectionLimit: 4, multipleStatements: true }),
    async (s, pool) => {
      if (url) for (const user of created) await pool.query(`DROP USER IF EXISTS '${user}'@'%', '${user}_clone'@'%'`).catch(() => {});
      await pool.end();
      await s.stop();
    },
  );
  const run = `${Date.now().toString(36).slice(-3)}`;
  return {
    url: () => ready().server.url,
    port: () => ready().server.port,
    /** Logins on a server that is not ours carry a per-run suffix and are dropped after. */
    name: (login: string) => {
      if (!url) return login;
      created.push(`${login}${run}`);
      return `${login}${run}`;
    },
    query: async <R>(text: string, params: unknown[] = []) => (await ready().admin.query(text, params))[0] as R,
  };
}
export type MysqlTarget = ReturnType<typeof mysqlTarget>;

/** mysql_native_password: '*' and upper-case hex of SHA1(SHA1(password)). */
const nativeHash = (pw: string) => `*${createHash('sha1').update(createHash('sha1').update(pw).digest()).digest('hex').toUpperCase()}`;

export function mysqlLine(t: MysqlTarget, strategy: 'single' | 'alternating' | 'dual-password', skip?: string): ConformanceLine<Login> {
  const prefix = { single: 'mys', alternating: 'mya', 'dual-password': 'myd' }[strategy];
  interface Account { user: string; host: string; auth: string; plugin: string; locked: string; additional: string | null }
  const accounts = async (login: string): Promise<Account[]> => {
    const [{ v }] = await t.query<[{ v: string }]>('SELECT VERSION() AS v');
    // MariaDB keeps accounts in mysql.global_priv (JSON); MySQL 8 in mysql.user, a second password in User_attributes.
    const rows = /mariadb/i.test(v)
      ? await t.query<Account[]>(
        `SELECT User AS user, Host AS host, IFNULL(JSON_VALUE(Priv, '$.authentication_string'), '') AS auth, IFNULL(JSON_VALUE(Priv, '$.plugin'), '') AS plugin,
                IF(IFNULL(JSON_VALUE(Priv, '$.account_locked'), '0') IN ('1', 'true'), 'Y', 'N') AS locked, NULL AS additional
           FROM mysql.global_priv WHERE User IN (?, ?) ORDER BY User, Host`, [login, `${login}_clone`])
      : await t.query<Account[]>(
        `SELECT User AS user, Host AS host, authentication_string AS auth, plugin, account_locked AS locked,
                JSON_UNQUOTE(JSON_EXTRACT(User_attributes, '$.additional_password')) AS additional
           FROM mysql.user WHERE User IN (?, ?) ORDER BY User, Host`, [login, `${login}_clone`]);
    return rows.map((r) => ({ ...r, auth: String(r.auth), additional: r.additional ?? null }));
  };
  const grants = async (a: Account) => (await t.query<Record<string, string>[]>(`SHOW GRANTS FOR '${a.user}'@'${a.host}'`)).map((r) => Object.values(r)[0]).sort();
  const probe: Probe<Login> = {
    accepts: (_ctx, v) => mysqlAccepts(asDb(v)),
    async unexplained(_ctx, login, stored) {
      const out: string[] = [];
      for (const a of await accounts(login)) {
        if (a.locked === 'Y') continue;
        const mine = stored.filter((s) => s.username === a.user);
        const who = `'${a.user}'@'${a.host}'`;
        if (a.auth === '') out.push(`${who} accepts an empty password`);
        else if (a.plugin === 'mysql_native_password') {
          if (!mine.some((s) => nativeHash(s.password) === a.auth)) out.push(`${who} has a password hash no stored value has`);
        } else {
          // Salted hashes (caching_sha2_password): count the stored values that log in against the passwords the account holds.
          let working = 0;
          for (const s of mine) if (await mysqlAccepts(asDb(s))) working++;
          const held = 1 + (a.additional ? 1 : 0);
          if (working < held) out.push(`${who} holds ${held} password${held > 1 ? 's' : ''}, only ${working} of them stored`);
        }
      }
      return out;
    },
    snapshot: async (_ctx, login) => Promise.all((await accounts(login)).map(async (a) => ({ ...a, grants: await grants(a) }))),
  };
  return {
    name: `mysql-password ${strategy}`,
    type: 'mysql-password',
    skip,
    fields: (login) => ({ strategy, username: login, drain: { timeout: '10s' } }),
    target: { type: 'mysql', url: () => t.url() },
    login: (tag) => t.name(`${prefix}_${tag}`),
    inPlace: strategy === 'single',
    async clean(_ctx, login) {
      // A locked account has no credential that works. Dual-password can only retain a password the account has:
      // it starts with one nobody knows, which its first retire must discard.
      await t.query(strategy === 'dual-password' ? `CREATE USER '${login}'@'%' IDENTIFIED BY '${password()}'` : `CREATE USER '${login}'@'%' ACCOUNT LOCK`);
      await t.query(`GRANT SELECT ON mysql.help_topic TO '${login}'@'%'`);
    },
    async existing(_ctx, login) {
      const pw = password();
      await t.query(`CREATE USER '${login}'@'%' IDENTIFIED BY '${pw}'`);
      await t.query(`GRANT SELECT ON mysql.help_topic TO '${login}'@'%'`);
      return { input: pw, value: { username: login, password: pw, host: '127.0.0.1', port: t.port(), database: '' }, refused: `not-${pw}` };
    },
    probe,
    secretsOf: (v) => [v.password],
  };
}

// ---------------------------------------------------------------- Redis

export function redisTarget() {
  const ready = shared(startRedis, (s) => new Redis(s.url), async (s, admin) => {
    admin.disconnect();
    await s.stop();
  });
  return {
    url: () => ready().server.url,
    port: () => ready().server.port,
    call: (...args: string[]) => ready().admin.call(args[0]!, ...args.slice(1)),
  };
}
export type RedisTarget = ReturnType<typeof redisTarget>;

export function redisLine(t: RedisTarget, strategy: 'dual-password' | 'alternating' | 'requirepass'): ConformanceLine<Login> {
  const prefix = { 'dual-password': 'rdd', alternating: 'rda', requirepass: 'rdr' }[strategy];
  const usersOf = (login: string) => (strategy === 'requirepass' ? ['default'] : [login, `${login}_clone`]);
  const getUser = async (user: string) => {
    const reply = (await t.call('ACL', 'GETUSER', user)) as unknown[] | null;
    if (!reply) return undefined;
    const m = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) m.set(String(reply[i]), reply[i + 1]);
    return {
      user,
      flags: ((m.get('flags') as string[] | undefined) ?? []).map(String).sort(),
      passwords: ((m.get('passwords') as string[] | undefined) ?? []).map(String).sort(),
      commands: String(m.get('commands') ?? ''),
      keys: JSON.stringify(m.get('keys') ?? ''),
      channels: JSON.stringify(m.get('channels') ?? ''),
    };
  };
  const probe: Probe<Login> = {
    accepts: (_ctx, v) => redisAccepts(asDb(v)),
    async unexplained(_ctx, login, stored) {
      // Redis lists the SHA-256 of every password a user accepts: each must be a stored value's for that user.
      const out: string[] = [];
      for (const name of usersOf(login)) {
        const u = await getUser(name);
        if (!u || !u.flags.includes('on')) continue;
        if (u.flags.includes('nopass')) out.push(`${name} is on with nopass`);
        const known = new Set(stored.filter((s) => s.username === name).map((s) => sha256(s.password)));
        for (const h of u.passwords) if (!known.has(h)) out.push(`${name} accepts a password #${h.slice(0, 8)}… no stored value has`);
      }
      return out;
    },
    snapshot: async (_ctx, login) => Promise.all(usersOf(login).map(getUser)),
  };
  return {
    name: `redis-acl ${strategy}`,
    type: 'redis-acl',
    fields: (login): Record<string, Json> => (strategy === 'requirepass' ? { strategy } : { strategy, username: login, rules: '~* &* +@all', drain: { timeout: '10s' } }),
    target: { type: 'redis', url: () => t.url() },
    // requirepass has one login, `default` (the admin is rotor-admin): its tests take turns.
    login: (tag) => (strategy === 'requirepass' ? 'default' : `${prefix}_${tag}`),
    exclusive: strategy === 'requirepass',
    inPlace: strategy === 'requirepass',
    async clean(_ctx, login) {
      if (strategy === 'requirepass') await t.call('ACL', 'SETUSER', 'default', 'reset', 'off', '~*', '&*', '+@all');
      else await t.call('ACL', 'DELUSER', login, `${login}_clone`);
    },
    async existing(_ctx, login) {
      // Two passwords, as a user mid-way through a manual rotation has: Rotor is told one of them.
      const [pw, other] = [password(), password()];
      await t.call('ACL', 'SETUSER', login, 'reset', 'on', `>${pw}`, `>${other}`, '~*', '&*', '+@all');
      return { input: pw, value: { username: login, password: pw, host: '127.0.0.1', port: t.port() }, refused: `not-${pw}` };
    },
    probe,
    secretsOf: (v) => [v.password],
  };
}

// ---------------------------------------------------------------- jwt-keyset

type Jwk = { kid: string; kty: string; [member: string]: Json };
export type KeySet = { alg: string; kid: string; keys: Jwk[]; [field: string]: Json };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const PUBLISHED = 'published.json';

async function newKey(alg: string): Promise<Jwk> {
  const key = alg === 'HS256'
    ? await generateSecret('HS256', { extractable: true })
    : (await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })).privateKey;
  const jwk: Record<string, unknown> = { ...(await exportJWK(key)) };
  delete jwk.ext;
  delete jwk.key_ops;
  return { ...(jwk as Jwk), kid: `pre-${randomBytes(6).toString('hex')}`, alg, use: 'sig' };
}

/** What verifiers are given: public keys (JWKS), or for HS256 the shared keys. */
function published(alg: string, keys: Jwk[]): { keys: Jwk[] } {
  if (alg === 'HS256') return { keys: keys.map(({ kid, kty, k, alg: a }) => ({ kid, kty, k: k ?? null, alg: a ?? null })) };
  return { keys: keys.map((k) => Object.fromEntries(Object.entries(k).filter(([m]) => !PRIVATE_MEMBERS.includes(m))) as Jwk) };
}

export function jwtLine(alg: 'HS256' | 'RS256' | 'ES256' | 'EdDSA'): ConformanceLine<KeySet> {
  const file = (ctx: Ctx) => join(ctx.dir, PUBLISHED);
  const read = (ctx: Ctx) => (existsSync(file(ctx)) ? (JSON.parse(readFileSync(file(ctx), 'utf8')) as { keys: Jwk[] }) : undefined);
  const probe: Probe<KeySet> = {
    async accepts(ctx, v) {
      const set = read(ctx);
      const key = v.keys.find((k) => k.kid === v.kid);
      if (!set || !key) return false;
      const token = await new SignJWT({ probe: true }).setProtectedHeader({ alg: v.alg, kid: v.kid }).setIssuedAt().setExpirationTime('1m')
        .sign(await importJWK(key as JWK, v.alg));
      try {
        if (alg === 'HS256') {
          const shared = set.keys.find((k) => k.kid === v.kid);
          if (!shared) return false;
          await jwtVerify(token, await importJWK(shared as JWK, 'HS256'));
        } else {
          await jwtVerify(token, createLocalJWKSet(set as { keys: JWK[] }));
        }
        return true;
      } catch {
        return false;
      }
    },
    async unexplained(ctx, _login, stored) {
      // Every published key must be a stored key: same kid, same public (for HS256: shared) material.
      const keys = stored.flatMap((v) => v.keys);
      return (read(ctx)?.keys ?? [])
        .filter((p) => !keys.some((k) => Object.entries(p).every(([m, val]) => JSON.stringify(k[m] ?? null) === JSON.stringify(val))))
        .map((p) => `published key ${p.kid} is no stored key`);
    },
    snapshot: async (ctx) => (existsSync(file(ctx)) ? readFileSync(file(ctx), 'utf8') : null),
  };
  return {
    name: `jwt-keyset ${alg}`,
    type: 'jwt-keyset',
    fields: (): Record<string, Json> => (alg === 'HS256' ? { algorithm: alg, keysetFile: PUBLISHED } : { algorithm: alg, jwksFile: PUBLISHED }),
    login: (tag) => tag,
    clean: async () => {},
    async existing(ctx): Promise<Existing<KeySet>> {
      // A key the services sign with today, published before Rotor.
      const key = await newKey(alg);
      writeFileSync(file(ctx), `${JSON.stringify(published(alg, [key]), null, 2)}\n`, { mode: alg === 'HS256' ? 0o600 : 0o644 });
      const value: KeySet = { alg, kid: key.kid, keys: [key] };
      return { input: JSON.stringify(value), value, refused: JSON.stringify({ alg, kid: key.kid, keys: [] }) };
    },
    probe,
    secretsOf: (v) => v.keys.flatMap((k) => PRIVATE_MEMBERS.map((m) => k[m]).filter((s): s is string => typeof s === 'string')),
  };
}

// ---------------------------------------------------------------- keyring

export type Ring = { primary: string; keys: { id: string; key: string }[]; [field: string]: Json };
const DELIVERED = 'delivered.json';

/** A keyring's target is the copy its consumers hold: delivered.json, written by the suite's consumer. */
export function keyringLine(): ConformanceLine<Ring> {
  const file = (ctx: Ctx) => join(ctx.dir, DELIVERED);
  const read = (ctx: Ctx) => (existsSync(file(ctx)) ? (JSON.parse(JSON.parse(readFileSync(file(ctx), 'utf8')).value as string) as Ring) : undefined);
  const probe: Probe<Ring> = {
    async accepts(ctx, v) {
      if (!ctx.delivered) return undefined;
      const held = read(ctx);
      if (!held) return false;
      // Data a service wrote under this version's primary key: can a service given the delivered keyring read it?
      try {
        return createKeyring(held).decryptString(createKeyring(v).encrypt('probe')) === 'probe';
      } catch {
        return false;
      }
    },
    async unexplained(ctx, _login, stored) {
      if (!ctx.delivered) return [];
      const keys = stored.flatMap((v) => v.keys);
      return (read(ctx)?.keys ?? []).filter((d) => !keys.some((k) => k.id === d.id && k.key === d.key)).map((d) => `delivered key ${d.id} is no stored key`);
    },
    snapshot: async (ctx) => (existsSync(file(ctx)) ? readFileSync(file(ctx), 'utf8') : null),
  };
  return {
    name: 'keyring',
    type: 'keyring',
    fields: () => ({}),
    login: (tag) => tag,
    delivers: true,
    clean: async () => {},
    async existing(ctx): Promise<Existing<Ring>> {
      // The keyring services were given before Rotor.
      const value: Ring = { primary: `pre${randomBytes(3).toString('hex')}`, keys: [] };
      value.keys.push({ id: value.primary, key: randomBytes(32).toString('base64') });
      if (ctx.delivered) writeFileSync(file(ctx), `${JSON.stringify({ value: JSON.stringify(value) })}\n`, { mode: 0o600 });
      return { input: JSON.stringify(value), value, refused: JSON.stringify({ primary: value.primary, keys: [] }) };
    },
    probe,
    secretsOf: (v) => v.keys.map((k) => k.key),
  };
}

// ---------------------------------------------------------------- random

export function randomLine(): ConformanceLine<string> {
  return {
    name: 'random',
    type: 'random',
    // A long value (the schema allows 4096): what a consumer echoes of it fills Rotor's output buffers.
    fields: () => ({ length: 4000, encoding: 'alnum' }),
    login: (tag) => tag,
    clean: async () => {},
    async existing() {
      const value = randomBytes(4000).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 4000);
      return { input: value, value };
    },
    probe: { accepts: async () => undefined, unexplained: async () => [], snapshot: async () => null },
    secretsOf: (v) => [v],
  };
}
