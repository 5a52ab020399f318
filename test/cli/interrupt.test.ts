/**
 * Ctrl-C (SIGINT) or SIGTERM during a rotation: the step under way finishes and is
 * journaled, nothing new starts, the terminal says what to do, `status` shows the rotation
 * as interrupted (not running), and `rotor resume` finishes it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during a rotation', (signal) => {
  it('the running reload finishes, nothing new starts, status says interrupted, resume finishes', async () => {
    const sb = new Sandbox(`version: 1
stores:
  env: { type: env-file, path: ./app.env }
consumers:
  slow:
    deliver: [{ store: env, key: A }]
    reload: [{ command: [sh, -c, 'touch reloading; sleep 2; echo done >> reloads'] }]
secrets:
  - { id: a, type: random, consumers: [slow] }
  - { id: b, type: random, after: [a] }
`);
    sandboxes.push(sb);
    await sb.ok(['init']);
    const child = spawn(process.execPath, [BIN, 'rotate', 'a', 'b', '--no-grace'], { cwd: sb.dir, env: sb.env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = new Promise<number | null>((r) => child.on('close', r));
    // Wait until a is reloading (the machine may be loaded: no fixed sleep).
    const { existsSync } = await import('node:fs');
    for (let i = 0; i < 300 && !existsSync(sb.path('reloading')); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill(signal);
    expect(await code).toBe(3);
    expect(stderr).toMatch(new RegExp(`${signal}: finishing the steps under way`));
    expect(stdout).toMatch(/interrupted; run `rotor resume`/);
    // The reload under way ran to its end; a's retire and b never started.
    expect(readFileSync(sb.path('reloads'), 'utf8')).toBe('done\n');
    const status = await sb.json<{ secrets: { id: string; interrupted: boolean; lastRotation: { status: string } | null }[] }>(['status']);
    const a = status.secrets.find((s) => s.id === 'a')!;
    const b = status.secrets.find((s) => s.id === 'b')!;
    expect(b.lastRotation).toBeNull();
    expect(a).toMatchObject({ interrupted: true, lastRotation: { status: 'running' } });
    expect((await sb.ok(['status'])).stdout).toMatch(/interrupted \(rotor resume\): interrupted before retire/);
    await sb.ok(['resume']);
    await sb.ok(['rotate', 'b']);
    await sb.ok(['audit', 'verify']);
  });
});
