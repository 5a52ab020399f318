/**
 * The target goes down between apply and verify (PostgreSQL `alternating`, the engine
 * in-process so the test can stop the server at that exact moment). Verify fails, the
 * rotation rolls back, and once the server is back the current value logs in and the
 * new one is refused — whether the server returns within the undo's retries or only
 * later, after which `rotor resume` finishes the rollback.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runBatch } from '../../src/engine/batch.js';
import { Runner } from '../../src/engine/runner.js';
import { openEngine } from '../../src/cli/open.js';
import { definitionOf } from '../../src/rotators/registry.js';
import type { AnyRotatorDefinition } from '../../src/rotators/types.js';
import { Sandbox } from '../helpers/sandbox.js';
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { pgAccepts } from '../helpers/logins.js';
import { storedValues, type HistoryJson } from '../helpers/db-history.js';

let server: PostgresServer;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

/** The real postgres-password rotator, with `beforeVerify` run just before its verify. */
function withHook(beforeVerify: () => Promise<void>): AnyRotatorDefinition {
  const real = definitionOf('postgres-password');
  return {
    ...real,
    load: async () => {
      const factory = await real.load();
      return (deps) => {
        const rotator = factory(deps);
        return { ...rotator, verify: async (req) => (await beforeVerify(), rotator.verify(req)) };
      };
    },
  };
}

async function rotateInProcess(sb: Sandbox, beforeVerify: () => Promise<void>, undoRetryMs?: number[]) {
  process.env.ROTOR_MASTER_KEY = sb.masterKey;
  const { config } = loadConfig(sb.path('rotor.yaml'), { ...process.env, ...sb.baseEnv });
  const engine = await openEngine(config);
  engine.deps.definitionOf = () => withHook(beforeVerify);
  if (undoRetryMs) engine.deps.undoRetryMs = undoRetryMs;
  const runner = new Runner(engine.deps);
  try {
    const [outcome] = await runBatch(engine.deps, config.secrets, { concurrency: 1 }, (s) =>
      runner.rotate(s, { trigger: 'manual', reason: 'target-down test', incident: null, noGrace: true }));
    return outcome!;
  } finally {
    await runner.close();
    await engine.close();
  }
}

describe('postgres-password: the target stops between apply and verify', () => {
  async function prepared(role: string) {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    await admin.end();
    const sb = new Sandbox(`version: 1\ntargets:\n  db: { type: postgres, url: "\${PG_ADMIN_URL}" }\nsecrets:\n  - { id: db/app, type: postgres-password, target: db, strategy: alternating, username: ${role} }\n`);
    sb.baseEnv.PG_ADMIN_URL = server.url;
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/app', '--no-grace']);
    await sb.ok(['rotate', 'db/app', '--no-grace']);
    return sb;
  }

  async function expectCurrentWorksAndNewRefused(sb: Sandbox) {
    const stored = await storedValues(sb, 'db/app');
    expect(stored.map((v) => v.stage)).toEqual(['retired', 'current', 'failed']);
    expect(await pgAccepts(stored[1]!.value)).toBe(true);
    expect(await pgAccepts(stored[2]!.value)).toBe(false);
    expect(await pgAccepts(stored[0]!.value)).toBe(false);
  }

  it('back within the undo retries: rolled back by itself (exit-1 class)', async () => {
    const sb = await prepared('down_quick');
    const outcome = await rotateInProcess(sb, async () => {
      await server.halt();
      setTimeout(() => void server.resume(), 1500);
    });
    expect(outcome).toMatchObject({ status: 'rolled-back', step: 'verify' });
    expect(outcome.error).toMatch(/target db \(127\.0\.0\.1:\d+\) \(as down_quick_clone\) refused the connection/);
    await expectCurrentWorksAndNewRefused(sb);
    await sb.ok(['audit', 'verify']);
  });

  it('down for longer: the rollback waits for a person, `rotor resume` finishes it once the server is back', async () => {
    const sb = await prepared('down_long');
    const outcome = await rotateInProcess(sb, () => server.halt(), [50, 50]);
    expect(outcome).toMatchObject({ status: 'failed', step: 'verify' });
    expect(outcome.hint).toMatch(/rotor resume/);
    await server.resume();
    const stored = await storedValues(sb, 'db/app');
    expect(stored[1]!.stage).toBe('current'); // never promoted: v2 stayed current throughout
    expect(await pgAccepts(stored[1]!.value)).toBe(true);
    const resumed = await sb.ok(['resume'], {}, 1); // exit 1: the rotation failed and is now rolled back cleanly
    expect(resumed.stdout).toMatch(/ROLLED BACK\s+db\/app/);
    await expectCurrentWorksAndNewRefused(sb);
    const h = await sb.json<HistoryJson>(['history', 'db/app']);
    expect(h.rotations.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'rolled-back']);
  });
});
