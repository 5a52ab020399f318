/**
 * The `redis-acl` lines: a private Redis whose admin is `rotor-admin`, asked through ACL
 * GETUSER (on/off, nopass, the SHA-256 of every password) and real AUTHs.
 *
 * @example
 * const redis = redisTarget();
 * runRotatorConformance(redisLine(redis, 'dual-password'));
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Json } from '../../../src/rotators/types.js';
import { redisAccepts } from '../../helpers/logins.js';
import { startRedis } from '../../helpers/servers/redis.js';
import { asDb, password, shared, type Login } from './servers.js';
import type { ConformanceLine, Probe } from './types.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

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
