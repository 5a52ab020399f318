/**
 * The invariant against real servers: a rotation killed (SIGKILL via ROTOR_CRASH_AT) at
 * each of the 12 step boundaries, for PostgreSQL `alternating` and Redis `dual-password`.
 * Right after the crash and again after `rotor resume`, the server is asked directly:
 * every password it would accept for the secret's logins is a stored value, and the value
 * staged `current` logs in.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { pgAccepts, redisAccepts, type Accepts, type DbValue } from '../helpers/logins.js';
import { storedValues } from '../helpers/db-history.js';

const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
const BOUNDARIES = STEPS.flatMap((s) => [`${s}:before`, `${s}:after`]);

let postgres: PostgresServer;
let redis: RedisServer;
let pgAdmin: pg.Client;
let redisAdmin: Redis;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  pgAdmin = new pg.Client({ connectionString: postgres.url });
  pgAdmin.on('error', () => {});
  await pgAdmin.connect();
  redisAdmin = new Redis(redis.url);
}, 90_000);
afterAll(async () => {
  await pgAdmin?.end();
  redisAdmin?.disconnect();
  await Promise.all([postgres?.stop(), redis?.stop()]);
  for (const sb of sandboxes) sb.remove();
});

interface Case {
  name: string;
  setup(login: string): Promise<void>;
  secret(login: string): string;
  env(): NodeJS.ProcessEnv;
  accepts: Accepts;
  /** Every login of the secret that the server would let in, and whether a stored value explains it. */
  unexplained(login: string, stored: DbValue[]): Promise<string[]>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const CASES: Case[] = [
  {
    name: 'postgres-password alternating',
    setup: async (login) => void (await pgAdmin.query(`CREATE ROLE ${login} NOLOGIN`)),
    secret: (login) => `{ id: db/crash, type: postgres-password, target: main, strategy: alternating, username: ${login} }`,
    env: () => ({ ADMIN_URL: postgres.url }),
    accepts: pgAccepts,
    async unexplained(login, stored) {
      // PostgreSQL holds one password per role: a role that can log in must be explained by a stored value that logs in.
      const { rows } = await pgAdmin.query<{ rolname: string }>(
        'SELECT rolname FROM pg_authid WHERE rolname = ANY($1) AND rolcanlogin AND rolpassword IS NOT NULL', [[login, `${login}_clone`]]);
      const out: string[] = [];
      for (const { rolname } of rows) {
        const candidates = stored.filter((v) => v.username === rolname);
        let explained = false;
        for (const v of candidates) if (await pgAccepts(v)) explained = true;
        if (!explained) out.push(rolname);
      }
      return out;
    },
  },
  {
    name: 'redis-acl dual-password',
    setup: async () => {},
    secret: (login) => `{ id: db/crash, type: redis-acl, target: main, strategy: dual-password, username: ${login}, rules: "~* +@all" }`,
    env: () => ({ ADMIN_URL: redis.url }),
    accepts: redisAccepts,
    async unexplained(login, stored) {
      // Redis lists the SHA-256 of every password a user accepts: each must be a stored value's.
      const reply = (await redisAdmin.call('ACL', 'GETUSER', login)) as unknown[] | null;
      if (!reply) return [];
      const passwords = reply[reply.indexOf('passwords') + 1] as string[];
      const known = new Set(stored.map((v) => sha256(v.password)));
      return passwords.filter((h) => !known.has(h)).map((h) => `${login} #${h.slice(0, 8)}…`);
    },
  },
];

describe.each(CASES)('$name: crash at every step boundary, then resume', (c) => {
  it.each(BOUNDARIES)('%s', async (boundary) => {
    const login = `crash_${c.name.split(' ')[0]!.replace('-', '_')}_${boundary.replace(':', '_')}`;
    await c.setup(login);
    const target = c.name.startsWith('redis') ? 'redis' : 'postgres';
    const sb = new Sandbox(`version: 1\ntargets:\n  main: { type: ${target}, url: "\${ADMIN_URL}" }\nsecrets:\n  - ${c.secret(login)}\n`);
    sandboxes.push(sb);
    Object.assign(sb.baseEnv, c.env());
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/crash', '--no-grace']);
    await sb.ok(['rotate', 'db/crash', '--no-grace']);

    const crashed = await sb.run(['rotate', 'db/crash', '--no-grace'], { ROTOR_CRASH_AT: boundary });
    expect(crashed.signal, crashed.stdout + crashed.stderr).toBe('SIGKILL');

    const check = async (when: string) => {
      const stored = await storedValues(sb, 'db/crash');
      const current = stored.filter((v) => v.stage === 'current');
      expect(current, `${when}: one current`).toHaveLength(1);
      expect(await c.accepts(current[0]!.value), `${when}: current logs in`).toBe(true);
      expect(await c.unexplained(login, stored.map((v) => v.value)), `${when}: logins the server accepts that no stored value explains`).toEqual([]);
      return stored;
    };
    await check('after the crash');

    const resumed = await sb.ok(['resume']);
    expect(resumed.stdout).not.toMatch(/FAILED|ROLLED BACK/);
    const stored = await check('after resume');
    // Resume finished the rotation: v3 current, everything older retired and refused.
    expect(stored.map((v) => v.stage)).toEqual(['retired', 'retired', 'current']);
    for (const v of stored.slice(0, 2)) expect(await c.accepts(v.value)).toBe(false);
    await sb.ok(['audit', 'verify']);
  });
});
