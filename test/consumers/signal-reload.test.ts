/**
 * A signal reload under a root Rotor: a service user must not be able to make Rotor signal
 * any process. The pidfile must be one only its owner (and root) can change — itself and
 * its directory — and the process must run as the reload's `user`, or as the pidfile's
 * owner. Refused reloads send nothing and roll back (exit 1). The service user is `nobody`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const NOBODY = 65534;
const sandboxes: Sandbox[] = [];
const workers: ChildProcess[] = [];
afterAll(() => {
  workers.forEach((w) => w.kill());
  sandboxes.forEach((s) => s.remove());
});

/** A process that counts the SIGHUPs it gets, as root or as another user. */
async function worker(uid?: number): Promise<{ pid: number; hups: () => number }> {
  const child = spawn(process.execPath, ['-e', "let n = 0; process.on('SIGHUP', () => console.log('hup', ++n)); setInterval(() => {}, 1000)"], {
    stdio: ['ignore', 'pipe', 'ignore'], cwd: '/', ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  workers.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 300));
  return { pid: child.pid!, hups: () => out.split('\n').filter(Boolean).length };
}

function setup(user = ''): Sandbox {
  const sb = new Sandbox(`version: 1
consumers:
  worker:
    reload: [{ signal: HUP, pidfile: run/worker.pid${user} }]
secrets:
  - { id: app/token, type: random, consumers: [worker] }
`);
  sandboxes.push(sb);
  mkdirSync(sb.path('run'));
  return sb;
}

function pidfile(sb: Sandbox, pid: number, opts: { uid?: number; gid?: number; mode?: number } = {}): void {
  sb.write('run/worker.pid', `${pid}\n`);
  chownSync(sb.path('run/worker.pid'), opts.uid ?? 0, opts.gid ?? opts.uid ?? 0);
  chmodSync(sb.path('run/worker.pid'), opts.mode ?? 0o644);
}

const rotate = async (sb: Sandbox) => {
  const r = await sb.run(['rotate', 'app/token']);
  await new Promise((done) => setTimeout(done, 200)); // a signal sent has arrived
  return r;
};

describe('signal reload', () => {
  it('signals a process that runs as the pidfile\'s owner', async () => {
    const sb = setup();
    await sb.ok(['init']);
    const service = await worker(NOBODY);
    pidfile(sb, service.pid, { uid: NOBODY });
    const r = await rotate(sb);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(service.hups()).toBe(1);
  });

  it('refuses a pidfile its service user owns that names another user\'s process', async () => {
    const sb = setup();
    await sb.ok(['init']);
    const rootProcess = await worker();
    pidfile(sb, rootProcess.pid, { uid: NOBODY });
    const r = await rotate(sb);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`reload failed: process ${rootProcess.pid} runs as root \\(uid 0\\), not as nobody \\(uid 65534\\) \\(the owner of run/worker\\.pid\\): no signal sent`));
    expect(rootProcess.hups()).toBe(0);
  });

  it('refuses a pidfile others can write: world- or group-writable, or in a directory a service user owns', async () => {
    const sb = setup();
    await sb.ok(['init']);
    const rootProcess = await worker();
    pidfile(sb, rootProcess.pid, { mode: 0o666 });
    expect((await rotate(sb)).stdout).toMatch(/reload failed: .*run\/worker\.pid is writable by every user/);
    pidfile(sb, rootProcess.pid, { gid: NOBODY, mode: 0o664 });
    expect((await rotate(sb)).stdout).toMatch(/reload failed: .*run\/worker\.pid is writable by group 65534, not only by its owner root/);
    pidfile(sb, rootProcess.pid);
    chownSync(sb.path('run'), NOBODY, NOBODY);
    expect((await rotate(sb)).stdout).toMatch(/reload failed: .*\/run is owned by nobody \(uid 65534\), who could swap the file of root/);
    expect(rootProcess.hups()).toBe(0);
    chownSync(sb.path('run'), 0, 0);
    expect((await rotate(sb)).code).toBe(0); // root's pidfile, root's process
    expect(rootProcess.hups()).toBe(1);
  });

  it('with `user`, the process must run as that user, whoever owns the pidfile', async () => {
    const sb = setup(', user: nobody');
    await sb.ok(['init']);
    const rootProcess = await worker();
    pidfile(sb, rootProcess.pid);
    const r = await rotate(sb);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/runs as root \(uid 0\), not as nobody \(uid 65534\) \(the reload's `user`\)/);
    const service = await worker(NOBODY);
    pidfile(sb, service.pid);
    expect((await rotate(sb)).code).toBe(0);
    expect(service.hups()).toBe(1);
    expect(rootProcess.hups()).toBe(0);
  });
});
