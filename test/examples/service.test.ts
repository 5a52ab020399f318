/**
 * The example service (examples/service/) under a steady request load — health checks and
 * signed-then-verified tokens that query the database — while Rotor rotates its database
 * password, JWT key set and API key with reload and health checks, and then through a
 * deliberately broken reload that Rotor rolls back by itself. Not one request fails, and the
 * service reloads once per run, not once per secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { freePort } from '../helpers/servers/common.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/service');
let postgres: PostgresServer;
let service: ChildProcess;
let sb: Sandbox;
let url: string;

beforeAll(async () => {
  postgres = await startPostgres();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE ROLE app NOLOGIN');
  await admin.end();
  sb = new Sandbox();
  for (const f of ['rotor.yaml', 'reload.mjs']) copyFileSync(resolve(EXAMPLE, f), sb.path(f));
  sb.write('service.env', '# delivered by Rotor\n');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  Object.assign(sb.baseEnv, { PG_ADMIN_URL: postgres.url, SERVICE_URL: url });
  service = spawn(process.execPath, [resolve(EXAMPLE, 'server.mjs')], { cwd: sb.dir, env: { ...process.env, SERVICE_ENV: sb.path('service.env'), PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => service.stdout!.once('data', () => r()));
}, 60_000);
afterAll(async () => {
  service?.kill();
  await postgres?.stop();
  sb?.remove();
});

it('serves every request through rotations of all three secrets and a rolled-back bad deploy', async () => {
  await sb.ok(['init']);
  await sb.ok(['rotate', '--all']);
  expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ db: 'ok', user: 'app_clone' });

  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const load = Array.from({ length: 3 }, async () => {
    while (!stop) {
      try {
        const h = await fetch(`${url}/health`);
        if (h.status !== 200) throw new Error(`health ${h.status}: ${await h.text()}`);
        const { token } = (await (await fetch(`${url}/token`)).json()) as { token: string };
        const w = await fetch(`${url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
        if (w.status !== 200) throw new Error(`whoami ${w.status}: ${await w.text()}`);
        ok++;
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  // Rotate, then retire the previous values (as `rotor serve` would when grace ends): the
  // old login stops working and the service's key set loses the old key — tokens signed
  // with it were minted before the rotation, so none is still in flight.
  await sb.ok(['rotate', '--all']);
  await sb.ok(['retire', '--force']);
  await sb.ok(['rotate', '--all']);
  await sb.ok(['retire', '--force']);
  // A bad deploy of the next database password: the one reload of the run fails, so all
  // three secrets delivered in it roll back together.
  const bad = await sb.run(['rotate', '--all'], { BREAK_VERSION: 'db/app@4' });
  expect(bad.code, bad.stdout + bad.stderr).toBe(1);
  for (const id of ['db/app', 'auth/jwt', 'app/api-key']) {
    expect(bad.stdout).toMatch(new RegExp(`ROLLED BACK\\s+${id.replace('/', '\\/')}\\s+at propagate: consumer service: reload failed`));
  }
  await sb.ok(['rotate', '--all']);
  await sb.ok(['retire', '--force']);
  stop = true;
  await Promise.all(load);

  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(50);
  const current = JSON.parse((await sb.ok(['get', 'db/app'])).stdout) as { username: string };
  // One reload per run for all three secrets: four rotations that delivered, one rollback
  // that re-delivered (the bad deploy's own reload failed before reaching the service), and
  // three retires that re-delivered the key set without the old key.
  expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ db: 'ok', user: current.username, reloads: 8 });
  const delivered = readFileSync(sb.path('service.env'), 'utf8');
  const keySet = JSON.parse((await sb.ok(['get', 'auth/jwt'])).stdout) as { kid: string; keys: { kid: string }[] };
  expect(keySet.keys).toHaveLength(2); // stored: the signing key and the one it replaced
  expect(delivered).toContain(keySet.kid);
  expect(delivered).not.toContain(keySet.keys[1]!.kid); // delivered: the retired key is gone
  for (const id of ['db/app', 'auth/jwt', 'app/api-key']) {
    const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', id]);
    expect(h.versions.map((v) => `${v.version}:${v.stage}`), id).toEqual(['1:retired', '2:retired', '3:retired', '4:failed', '5:current']);
  }
  await sb.ok(['audit', 'verify']);
}, 120_000);
