/**
 * `keyring` and `rotor reencrypt` against a real PostgreSQL table: re-encryption while the
 * application keeps inserting and updating rows (some still with the old key, like a
 * service that has not reloaded yet) loses and double-encrypts nothing; a job killed
 * half-way resumes from its checkpoint; retire is refused while rows remain under the old key.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, type Keyring, type KeyringValue } from 'rotor/client';
import { Sandbox, BIN } from '../helpers/sandbox.js';
import { spawn } from 'node:child_process';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';

let server: PostgresServer;
let admin: pg.Client;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  admin.on('error', () => {});
  await admin.connect();
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

async function setup(table: string, rows: number, grace = '1h') {
  await admin.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, secret text)`);
  const sb = new Sandbox(`version: 1\ntargets:\n  db: { type: postgres, url: "\${PG_ADMIN_URL}" }\nsecrets:\n  - { id: data/key, type: keyring, target: db, grace: ${grace}, data: { table: ${table}, column: secret, batchSize: 1000 } }\n`);
  sb.baseEnv.PG_ADMIN_URL = server.url;
  sandboxes.push(sb);
  await sb.ok(['init']);
  await sb.ok(['rotate', 'data/key']);
  const v1 = createKeyring(await ring(sb));
  const expected = new Map<string, string>();
  for (let start = 0; start < rows; start += 5000) {
    const n = Math.min(5000, rows - start);
    const plain = Array.from({ length: n }, (_, i) => `row-${start + i}-${Math.random().toString(36).slice(2)}`);
    const { rows: ids } = await admin.query<{ id: string }>(`INSERT INTO ${table} (secret) SELECT unnest($1::text[]) RETURNING id::text`, [plain.map((p) => v1.encrypt(p))]);
    ids.forEach((r, i) => expected.set(r.id, plain[i]!));
  }
  await sb.ok(['rotate', 'data/key']);
  return { sb, v1, expected };
}

const ring = async (sb: Sandbox, stage = 'current') => JSON.parse((await sb.ok(['get', 'data/key', '--stage', stage])).stdout) as KeyringValue;

async function expectAllUnder(table: string, keyring: Keyring, expected: Map<string, string>) {
  const { rows } = await admin.query<{ id: string; secret: string }>(`SELECT id::text, secret FROM ${table}`);
  expect(rows.length).toBe(expected.size);
  let wrong = 0;
  for (const r of rows) {
    if (keyring.keyIdOf(r.secret) !== keyring.primaryId) wrong++;
    else if (keyring.decryptString(r.secret) !== expected.get(r.id)) wrong++;
  }
  expect(wrong, 'rows not under the new key, or not holding what was last written').toBe(0);
}

describe('keyring re-encryption on a real table', () => {
  it('moves every row to the new key while the application inserts and updates (partly with the old key); nothing lost or changed', async () => {
    const { sb, v1, expected } = await setup('cards', 30_000);
    const v2 = createKeyring(await ring(sb));
    expect(v2.primaryId).not.toBe(v1.primaryId);

    // The application: inserts and updates continuously; the first 300 writes still use the old keyring.
    let stop = false;
    let writes = 0;
    const app = new pg.Client({ connectionString: server.url });
    await app.connect();
    const writer = (async () => {
      while (!stop) {
        const k = writes++ < 300 ? v1 : v2;
        const plain = `app-${writes}-${Math.random().toString(36).slice(2)}`;
        if (writes % 2) {
          const { rows } = await app.query<{ id: string }>('INSERT INTO cards (secret) VALUES ($1) RETURNING id::text', [k.encrypt(plain)]);
          expected.set(rows[0]!.id, plain);
        } else {
          const id = String(1 + Math.floor(Math.random() * 30_000));
          await app.query('UPDATE cards SET secret = $1 WHERE id = $2', [k.encrypt(plain), id]);
          expected.set(id, plain);
        }
      }
    })();
    const job = await sb.run(['reencrypt', 'data/key', '--json']);
    stop = true;
    await writer;
    await app.end();
    expect(job.code, job.stdout + job.stderr).toBe(0);
    const report = JSON.parse(job.stdout);
    expect(report.reencrypted).toBeGreaterThan(25_000); // the rest were rewritten under the new key by the application itself
    expect(report.remaining).toBe(0);
    expect(writes).toBeGreaterThan(300);
    await expectAllUnder('cards', v2, expected);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/keyring\.reencrypted/);
  });

  it('killed half-way, resumed from the checkpoint: same result', async () => {
    const { sb, expected } = await setup('orders', 150_000);
    const v2 = createKeyring(await ring(sb));
    const checkpoint = sb.path('.rotor', 'reencrypt', `${encodeURIComponent('data/key')}.json`);
    const child = spawn(process.execPath, [BIN, 'reencrypt', 'data/key', '--batch', '500'], { cwd: sb.dir, env: sb.env() });
    const exited = new Promise((r) => child.on('exit', r));
    while (!existsSync(checkpoint)) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await exited;
    const { rows } = await admin.query<{ n: string }>(`SELECT count(*) n FROM orders WHERE secret LIKE $1`, [`rk1:${v2.primaryId}:%`]);
    const halfway = Number(rows[0]!.n);
    expect(halfway).toBeGreaterThan(0);
    expect(halfway).toBeLessThan(150_000);
    const resumed = await sb.ok(['reencrypt', 'data/key']);
    expect(resumed.stdout).toMatch(/resumed from the checkpoint \(ranges at ids \d+/);
    expect(resumed.stdout).toMatch(/ 0 left/);
    await expectAllUnder('orders', v2, expected);
    expect(existsSync(checkpoint)).toBe(false);
  });

  it('retire is refused while rows remain under the old key, and goes through once they are moved', async () => {
    const { sb, v1, expected } = await setup('notes', 2_000, '1s');
    await new Promise((r) => setTimeout(r, 1100));
    const held = await sb.run(['retire', '--due']);
    expect(held.code).toBe(3);
    expect(held.stdout).toContain(`2000 rows are still encrypted under key ${v1.primaryId} in notes`);
    expect(held.stdout).toMatch(/run `rotor reencrypt` for this secret, then `rotor retire` again/);
    await sb.ok(['reencrypt', 'data/key']);
    await sb.ok(['retire', '--due']);
    const h = await sb.json<{ versions: { stage: string }[] }>(['history', 'data/key']);
    expect(h.versions.map((v) => v.stage)).toEqual(['retired', 'current']);
    await expectAllUnder('notes', createKeyring(await ring(sb)), expected);
  });
});

describe('re-encryption counts', () => {
  it.each([250, 100_000])('numeric ids 1..%i are each read once: scanned and re-encrypted equal the row count', async (n) => {
    const table = `counted_${n}`;
    const { sb } = await setup(table, n);
    const report = JSON.parse((await sb.ok(['reencrypt', 'data/key', '--batch', '100', '--json'])).stdout) as { scanned: number; reencrypted: number; alreadyCurrent: number; changedConcurrently: number; passes: number };
    expect(report).toMatchObject({ scanned: n, reencrypted: n, alreadyCurrent: 0, changedConcurrently: 0 });
  }, 180_000);
});
