/**
 * an apply that times out is abandoned, not stopped at the server. The wrapper
 * (engine/rotator-wrap.ts) rejects on time and the rotator destroys its socket, but a
 * statement PostgreSQL already received keeps running (here: CREATE ROLE waiting on a
 * lock). undoApply runs at once, finds no clone ("does not exist") and the rotation is
 * reported ROLLED BACK (exit 1). Then the abandoned CREATE ROLE commits: the clone logs in
 * with the `failed` version's password — a live credential after a "clean" rollback,
 * which expectServerAgrees (failed must be refused) rejects.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { connectPg, startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { storedValues } from '../helpers/db-history.js';
import { pgAccepts } from '../helpers/logins.js';

let server: PostgresServer;
let admin: pg.Client;
let blocker: pg.Client;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = await connectPg(server.url);
  blocker = await connectPg(server.url);
}, 60_000);
afterAll(async () => {
  await blocker?.end().catch(() => {});
  await admin?.end();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

describe('apply timeout while the statement is stuck at the server', () => {
  it('postgres alternating: after the rotation is reported rolled back, no stored failed value logs in', async () => {
    await admin.query("CREATE ROLE app_race LOGIN PASSWORD 'orig-pass-race-1'");
    const sb = new Sandbox(
      'version: 1\ntargets:\n  db: { type: postgres, url: "${PG_ADMIN_URL}" }\nsecrets:\n'
        + '  - { id: db/race, type: postgres-password, target: db, strategy: alternating, username: app_race, timeouts: { apply: 1s } }\n',
    );
    sb.baseEnv.PG_ADMIN_URL = server.url;
    sandboxes.push(sb);
    await sb.ok(['init']);

    // Another admin session is creating the same role and has not committed yet.
    await blocker.query('BEGIN');
    await blocker.query('CREATE ROLE app_race_clone');
    const r = await sb.run(['rotate', 'db/race', '--no-grace']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/ROLLED BACK/);
    // That session gives up; the abandoned CREATE ROLE ... PASSWORD <pending> goes through.
    await blocker.query('ROLLBACK');
    await new Promise((resolve) => setTimeout(resolve, 500));

    // The helpers' rule (db-history.ts expectServerAgrees): a failed version must be refused.
    const stored = await storedValues(sb, 'db/race');
    expect(stored.map((v) => v.stage)).toEqual(['failed']);
    expect(await pgAccepts({ ...stored[0]!.value, host: '127.0.0.1', port: server.port }), 'the failed v1 logs in after a clean rollback').toBe(false);
  }, 60_000);
});
