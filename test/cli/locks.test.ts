/**
 * Rotation locks are leases: a holder renews its lease while it works; a lock whose holder
 * died is cleared by `rotor resume` (even with no rotation open) or taken over once stale;
 * a changed hostname does not strand a lock; `rotor status` shows locks and their holders.
 */
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));
const sandbox = async (yaml: string) => {
  const sb = new Sandbox(yaml);
  sandboxes.push(sb);
  await sb.ok(['init']);
  return sb;
};

const TWO = `version: 1
consumers:
  slow:
    reload: [{ command: [sh, -c, 'touch reloading; sleep 4; rm -f reloading'], timeout: 20s }]
secrets:
  - { id: a, type: random, consumers: [slow] }
  - { id: b, type: random, after: [a] }
`;

/** Plants a lock row as another process would have left it. */
function plantLock(sb: Sandbox, secretId: string, lock: { pid: number; host: string; expiresAt: number }) {
  const db = new Database(sb.path('.rotor', 'state.db'));
  db.prepare('INSERT OR REPLACE INTO locks (secret_id, rotation_id, pid, host, acquired_at, owner_id, expires_at) VALUES (?,?,?,?,?,?,?)')
    .run(secretId, null, lock.pid, lock.host, Date.now() - 60_000, `elsewhere:${lock.pid}`, lock.expiresAt);
  db.close();
}

/** Waits until the slow reload has started (the machine may be loaded: no fixed sleep). */
async function reloading(sb: Sandbox): Promise<void> {
  const { existsSync } = await import('node:fs');
  for (let i = 0; i < 300 && !existsSync(sb.path('reloading')); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(sb.path('reloading'))) throw new Error('the reload never started');
}

const deadPid = () => spawnSync('true').pid!;
const locks = async (sb: Sandbox) => (await sb.json<{ locks: { secretId: string; expired: boolean; host: string }[] }>(['status'])).locks;

describe.concurrent('locks are leases', () => {
  it('a batch killed while a secret waits for its slot: `rotor resume` clears that lock and finishes the other', async () => {
    const sb = await sandbox(TWO);
    await sb.ok(['rotate', 'a', 'b']);
    // b waits for a (`after`) holding only its lock, with no rotation recorded, while a reloads for 4 s.
    const child = spawn(process.execPath, [BIN, 'rotate', 'a', 'b'], { cwd: sb.dir, env: sb.env() });
    await reloading(sb);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    expect((await locks(sb)).map((l) => l.secretId).sort()).toEqual(['a', 'b']);

    const resumed = await sb.ok(['resume']);
    expect(resumed.stdout).toMatch(/CLEARED\s+b\s+stale lock of pid \d+/);
    expect(await locks(sb)).toEqual([]);
    await sb.ok(['rotate', 'b']);
  });

  it('a lock of a process that is gone on this host is taken over by the next rotation', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    const { hostname } = await import('node:os');
    plantLock(sb, 'a', { pid: deadPid(), host: hostname(), expiresAt: Date.now() + 3_600_000 });
    await sb.ok(['rotate', 'a']);
    expect(await locks(sb)).toEqual([]);
  });

  it('a changed hostname does not strand a lock: its lease expires, status says so, resume clears it', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    plantLock(sb, 'a', { pid: 4242, host: 'old-container-7f9c', expiresAt: Date.now() - 1_000 });
    expect(await locks(sb)).toEqual([expect.objectContaining({ secretId: 'a', host: 'old-container-7f9c', expired: true })]);
    expect((await sb.ok(['status'])).stdout).toMatch(/locks[\s\S]*a\s+pid 4242 on old-container-7f9c[\s\S]*expired/);
    expect((await sb.ok(['resume'])).stdout).toMatch(/CLEARED\s+a/);
    await sb.ok(['rotate', 'a']);
  });

  it('a live lease of another host is respected: BUSY (exit 2), and resume leaves it alone', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    plantLock(sb, 'a', { pid: 4242, host: 'other-host', expiresAt: Date.now() + 3_600_000 });
    const busy = await sb.run(['rotate', 'a']);
    expect(busy.code).toBe(2);
    expect(busy.stdout).toMatch(/BUSY\s+a\s+locked by pid 4242 on other-host/);
    expect((await sb.ok(['resume'])).stdout).toMatch(/nothing to resume/);
    expect((await locks(sb)).map((l) => l.secretId)).toEqual(['a']);
  });

  it('a holder that works longer than its lease keeps it by renewing', async () => {
    const sb = await sandbox(TWO);
    const env = { ROTOR_LOCK_LEASE_MS: '600' };
    const child = spawn(process.execPath, [BIN, 'rotate', 'a'], { cwd: sb.dir, env: sb.env(env) });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await new Promise((r) => setTimeout(r, 2000));
    // Well past one lease: the holder still renews, so a second rotation is refused.
    const second = await sb.run(['rotate', 'a'], env);
    expect(second.code).toBe(2);
    expect(second.stdout).toMatch(/BUSY/);
    expect(await exited).toBe(0);
  });
});

describe('a holder that is alive keeps its lock; one that died is seen at once', () => {
  it('a paused holder whose lease ran out is not robbed by resume; after kill -9, status says interrupted at once', async () => {
    const sb = await sandbox(TWO);
    const env = { ROTOR_LOCK_LEASE_MS: '1000' };
    const child = spawn(process.execPath, [BIN, 'rotate', 'a'], { cwd: sb.dir, env: sb.env(env) });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await reloading(sb);
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2000)); // the lease ran out while paused
    const resumed = await sb.run(['resume'], env);
    expect(resumed.code).toBe(2);
    expect(resumed.stdout).toMatch(/BUSY\s+a/);
    expect(resumed.stdout).not.toMatch(/CLEARED/);
    const second = await sb.run(['rotate', 'a'], env);
    expect(second.stdout).toMatch(/BUSY/);
    child.kill('SIGCONT');
    expect(await exited).toBe(0);

    const killed = await sb.run(['rotate', 'a'], { ROTOR_CRASH_AT: 'apply:before' });
    expect(killed.signal).toBe('SIGKILL');
    const status = await sb.json<{ secrets: { id: string; interrupted: boolean }[]; locks: { secretId: string; stale: boolean }[] }>(['status']);
    expect(status.secrets.find((s) => s.id === 'a')!.interrupted).toBe(true);
    expect(status.locks).toEqual([expect.objectContaining({ secretId: 'a', stale: true })]);
    await sb.ok(['resume']);
  });
});
