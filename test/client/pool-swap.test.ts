/**
 * The `rotor/client` watcher with the pool-swap example (examples/client/swappable-pool.mjs):
 * a service keeps querying PostgreSQL through five rotations of its password (alternating,
 * old login retired each time) while its credential file is replaced under it: no query fails.
 */
import { renameSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
// @ts-expect-error: the example is plain JavaScript, as a user would write it
import { swappablePool } from '../../examples/client/swappable-pool.mjs';

let server: PostgresServer;
let sb: Sandbox;
beforeAll(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE ROLE svc NOLOGIN');
  await admin.end();
  sb = new Sandbox('version: 1\ntargets:\n  db: { type: postgres, url: "${PG_ADMIN_URL}" }\nsecrets:\n  - { id: db/svc, type: postgres-password, target: db, strategy: alternating, username: svc, grace: 1h, drain: { timeout: 5s, onTimeout: proceed } }\n');
  sb.baseEnv.PG_ADMIN_URL = server.url;
  await sb.ok(['init']);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  sb?.remove();
});

/** What a consumer's delivery does: replace the file atomically. */
async function deliver() {
  writeFileSync(sb.path('db.json.tmp'), (await sb.ok(['get', 'db/svc'])).stdout);
  renameSync(sb.path('db.json.tmp'), sb.path('db.json'));
}

it('queries keep succeeding while the credential file changes under the pool five times', async () => {
  await sb.ok(['rotate', 'db/svc']);
  await deliver();
  const swaps: string[] = [];
  const errors: unknown[] = [];
  const db = await swappablePool(sb.path('db.json'), { intervalMs: 50, onSwap: (u: string) => swaps.push(u), onError: (e: unknown) => errors.push(e) });
  let ok = 0;
  let failed = 0;
  let stop = false;
  const load = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        await db.query('SELECT pg_sleep(0.005)');
        ok++;
      } catch {
        failed++;
      }
    }
  });
  for (let i = 0; i < 5; i++) {
    await sb.ok(['rotate', 'db/svc']);
    await deliver();
    const want = swaps.length + 1;
    while (swaps.length < want) await new Promise((r) => setTimeout(r, 20));
    await sb.ok(['retire', '--force', 'db/svc']); // the old login is refused from here on
  }
  stop = true;
  await Promise.all(load);
  await db.close();
  expect(swaps).toEqual(['svc_clone', 'svc', 'svc_clone', 'svc', 'svc_clone', 'svc']);
  expect(failed).toBe(0);
  expect(ok).toBeGreaterThan(100);
  expect(errors).toEqual([]);
});
