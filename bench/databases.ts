/**
 * Issue 3's figures, against private PostgreSQL and Redis servers started here:
 * 200 PostgreSQL `alternating` + 200 Redis `dual-password` credentials rotated end to end
 * in one `rotor rotate --all --no-grace`, beside a plain script issuing the same
 * statements for as many users, sequentially; and the zero-downtime run's figures.
 * Bundled and run by bench/run.mjs (it reuses the test harness's servers).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { scramVerifier } from '../src/rotators/postgres-password/scram.js';
import { randomString } from '../src/crypto/generate.js';
import { Sandbox } from '../test/helpers/sandbox.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { startRedis } from '../test/helpers/servers/redis.js';
import { pgAccepts, redisAccepts, type Accepts } from '../test/helpers/logins.js';
import { zeroDowntimeRun } from '../test/helpers/zero-downtime.js';

type Report = (name: string, value: number, unit: string, baselineName: string, baseline: number, goal: string) => void;

const N = 200;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export async function run(report: Report): Promise<void> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const sandboxes: Sandbox[] = [];
  try {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const roles = Array.from({ length: N }, (_, i) => `bench_${i}`);
    const plain = Array.from({ length: N }, (_, i) => `plain_${i}`);
    await admin.query([...roles, ...plain].map((r) => `CREATE ROLE ${r} NOLOGIN; CREATE ROLE ${r}_clone LOGIN IN ROLE ${r};`).join('\n'));

    // Rotor: one run over 400 secrets. The first run creates the clones and Redis users; the timed one is a steady-state rotation that also retires.
    let yaml = 'version: 1\ntargets:\n  pg: { type: postgres, url: "${PG_URL}" }\n  cache: { type: redis, url: "${REDIS_URL}" }\nsecrets:\n';
    for (const r of roles) yaml += `  - { id: pg/${r}, type: postgres-password, target: pg, strategy: alternating, username: ${r} }\n`;
    for (let i = 0; i < N; i++) yaml += `  - { id: redis/u${i}, type: redis-acl, target: cache, strategy: dual-password, username: bench_${i}, rules: "~* +@all" }\n`;
    const sb = new Sandbox(yaml);
    sandboxes.push(sb);
    Object.assign(sb.baseEnv, { PG_URL: postgres.url, REDIS_URL: redis.url });
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all', '--no-grace']);
    const t0 = performance.now();
    await sb.ok(['rotate', '--all', '--no-grace']);
    const rotorMs = performance.now() - t0;

    // Baseline: the same statements for as many users, one after another, no Rotor.
    const pgPasswords = new Map<string, string>();
    const redisPasswords = new Map<string, string>();
    const redisAdmin = new Redis(redis.url);
    const once = async () => {
      for (const r of plain) {
        const old = pgPasswords.get(r);
        const [login, previous] = old === undefined || old.startsWith('clone:') ? [r, `${r}_clone`] : [`${r}_clone`, r];
        const password = randomString(32, 'alnum');
        await admin.query(`ALTER ROLE "${login}" WITH LOGIN PASSWORD '${await scramVerifier(password)}'`);
        if (!(await pgAccepts({ username: login, password, host: postgres.host, port: postgres.port }))) throw new Error('baseline login failed');
        await admin.query(`ALTER ROLE "${previous}" WITH NOLOGIN PASSWORD NULL`);
        if (old !== undefined && (await pgAccepts({ username: previous, password: old.replace(/^clone:|^base:/, ''), host: postgres.host, port: postgres.port }))) throw new Error('baseline old login still works');
        pgPasswords.set(r, `${login === r ? 'base' : 'clone'}:${password}`);
      }
      for (let i = 0; i < N; i++) {
        const user = `plain_${i}`;
        const old = redisPasswords.get(user);
        const password = randomString(32, 'alnum');
        await redisAdmin.call('ACL', 'SETUSER', user, 'on', `#${sha256(password)}`, '~*', '+@all');
        if (!(await redisAccepts({ username: user, password, host: redis.host, port: redis.port }))) throw new Error('baseline AUTH failed');
        if (old !== undefined) {
          await redisAdmin.call('ACL', 'SETUSER', user, `!${sha256(old)}`);
          if (await redisAccepts({ username: user, password: old, host: redis.host, port: redis.port })) throw new Error('baseline old AUTH still works');
        }
        redisPasswords.set(user, password);
      }
    };
    await once();
    const t1 = performance.now();
    await once();
    const baselineMs = performance.now() - t1;
    redisAdmin.disconnect();
    console.log(`rotate 200 PostgreSQL (alternating) + 200 Redis (dual-password) credentials, end to end, no grace: wall ${(rotorMs / 1000).toFixed(2)} s (goal ≤ 10 s, CLI start-up included)`);
    report('rotate 200 PostgreSQL + 200 Redis credentials', rotorMs, 'ms', 'the same statements, sequential, no Rotor', baselineMs, '≤ 10 s wall');

    // Zero downtime: a login every 5 ms through 20 rotations with a 300 ms grace.
    await admin.query('CREATE ROLE zd_alt NOLOGIN; CREATE ROLE zd_single NOLOGIN');
    await admin.end();
    const cases: [string, string, 'postgres' | 'redis', Accepts][] = [
      ['postgres-password alternating', 'type: postgres-password, strategy: alternating, username: zd_alt', 'postgres', pgAccepts],
      ['postgres-password single', 'type: postgres-password, strategy: single, username: zd_single', 'postgres', pgAccepts],
      ['redis-acl dual-password', 'type: redis-acl, strategy: dual-password, username: zd_dual, rules: "~* +@all"', 'redis', redisAccepts],
      ['redis-acl requirepass', 'type: redis-acl, strategy: requirepass', 'redis', redisAccepts],
    ];
    for (const [name, fields, kind, accepts] of cases) {
      const zd = new Sandbox(`version: 1\ntargets:\n  t: { type: ${kind}, url: "\${ADMIN_URL}" }\nsecrets:\n  - { id: zd/secret, target: t, ${fields} }\n`);
      sandboxes.push(zd);
      zd.baseEnv.ADMIN_URL = kind === 'postgres' ? postgres.url : redis.url;
      await zd.ok(['init']);
      const f = await zeroDowntimeRun(zd, { secretId: 'zd/secret', accepts, rotations: 20, graceMs: 300, everyMs: 5 });
      console.log(
        `zero downtime, ${name}: ${f.attempts} logins attempted (${f.attemptsDuringRotation} during rotation), ${f.failed} failed` +
          `${f.failed ? ` (longest window ${f.longestFailureWindowMs} ms)` : ''}; p99 login ${f.p99DuringMs.toFixed(1)} ms during rotation vs ${f.p99OutsideMs.toFixed(1)} ms outside`,
      );
      report(`p99 login during rotation, ${name}`, f.p99DuringMs, 'ms', 'p99 login outside rotation', f.p99OutsideMs, f.failed ? `${f.failed} failed of ${f.attempts}` : '0 failed');
    }
  } finally {
    for (const sb of sandboxes) sb.remove();
    await Promise.all([postgres.stop(), redis.stop()]);
  }
}
