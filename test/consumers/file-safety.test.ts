/**
 * Delivery into files under a root Rotor, through the real CLI:
 * - a consumer file that is a symlink keeps its link, and the file it points to is updated;
 * - a link a service user (nobody) could have aimed at another user's file is refused: the
 *   rotation rolls back (exit 1), the error names the link and its owner, nothing is written;
 * - two `rotor rotate` processes (two configs) writing one .env both land every key.
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envFile } from '../../src/delivery/files/env-file.js';
import { Sandbox } from '../helpers/sandbox.js';

const NOBODY = 65534;
const sandboxes: Sandbox[] = [];
const dirs: string[] = [];
afterAll(() => {
  sandboxes.forEach((s) => s.remove());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const sandbox = (config: string) => {
  const sb = new Sandbox(config);
  sandboxes.push(sb);
  return sb;
};
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rotor-shared-'));
  dirs.push(d);
  return d;
};

const CONFIG = (path: string) => `version: 1
stores:
  app-env: { type: env-file, path: ${path} }
consumers:
  api:
    deliver: [{ store: app-env, key: API_TOKEN }]
secrets:
  - { id: app/token, type: random, consumers: [api], grace: 1h }
`;
const history = async (sb: Sandbox) => (await sb.json<{ versions: { version: number; stage: string }[] }>(['history', 'app/token'])).versions.map((v) => `${v.version}:${v.stage}`);

describe('symlinked consumer files', () => {
  it('keep the link: releases/current/.env → shared/.env gets the new value, still a link', async () => {
    const sb = sandbox(CONFIG('app/releases/current/.env'));
    mkdirSync(sb.path('app/shared'), { recursive: true });
    mkdirSync(sb.path('app/releases/r7'), { recursive: true });
    sb.write('app/shared/.env', 'API_TOKEN=old\nOTHER=keep\n');
    symlinkSync('r7', sb.path('app/releases/current'));
    symlinkSync('../../shared/.env', sb.path('app/releases/r7/.env'));
    await sb.ok(['init']);
    const r = await sb.ok(['rotate', 'app/token']);
    expect(r.stdout).not.toMatch(/ROLLED BACK/);
    expect(lstatSync(sb.path('app/releases/r7/.env')).isSymbolicLink()).toBe(true);
    const token = (await sb.ok(['get', 'app/token'])).stdout.trim();
    expect(readFileSync(sb.path('app/shared/.env'), 'utf8')).toBe(`API_TOKEN=${token}\nOTHER=keep\n`);
  });

  it('a link a service user owns, aimed at another user\'s file, is refused: rolled back, named, nothing written', async () => {
    const secrets = tempDir();
    chmodSync(secrets, 0o700);
    const secret = join(secrets, 'secret.txt');
    writeFileSync(secret, 'ROOT_ONLY=hunter2\n', { mode: 0o644 });
    const sb = sandbox(CONFIG('app/.env'));
    mkdirSync(sb.path('app'));
    sb.write('app/.env', 'API_TOKEN=old\n');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/token']);
    const delivered = readFileSync(sb.path('app/.env'), 'utf8');
    // The service user replaces its .env with a link to a file it cannot read.
    rmSync(sb.path('app/.env'));
    symlinkSync(secret, sb.path('app/.env'));
    lchownSync(sb.path('app/.env'), NOBODY, NOBODY);
    const r = await sb.run(['rotate', 'app/token']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/ROLLED BACK\s+app\/token\s+at propagate: consumer api: cannot deliver into app-env .*app\/\.env is a symbolic link owned by nobody \(uid 65534\) to a file of root \(uid 0\)/);
    expect(await history(sb)).toEqual(['1:current', '2:failed']);
    expect(lstatSync(sb.path('app/.env')).isSymbolicLink()).toBe(true);
    expect(readFileSync(secret, 'utf8')).toBe('ROOT_ONLY=hunter2\n');
    expect(delivered).toMatch(/^API_TOKEN=/);
  });
});

describe('two Rotor processes writing one file', () => {
  it('both land every key (a lock across processes, held from read to rename)', async () => {
    const shared = join(tempDir(), 'app.env');
    writeFileSync(shared, '# shared by two configs\n');
    const config = (name: string) => {
      const lines = ['version: 1', 'stores:', `  shared: { type: env-file, path: ${shared} }`, 'consumers:'];
      for (let i = 0; i < 12; i++) lines.push(`  c${i}: { deliver: [{ store: shared, key: ${name}_${i} }] }`);
      lines.push('secrets:');
      for (let i = 0; i < 12; i++) lines.push(`  - { id: ${name.toLowerCase()}/k${i}, type: random, consumers: [c${i}], grace: 1h }`);
      return `${lines.join('\n')}\n`;
    };
    const [a, b] = [sandbox(config('A')), sandbox(config('B'))];
    await Promise.all([a.ok(['init']), b.ok(['init'])]);
    for (let round = 0; round < 3; round++) await Promise.all([a.ok(['rotate', '--all', '--no-grace']), b.ok(['rotate', '--all', '--no-grace'])]);
    const text = readFileSync(shared, 'utf8');
    const wrong: string[] = [];
    for (const [sb, name] of [[a, 'A'], [b, 'B']] as const) {
      for (let i = 0; i < 12; i++) {
        const value = (await sb.ok(['get', `${name.toLowerCase()}/k${i}`])).stdout.trim();
        if (envFile.read(text, `${name}_${i}`) !== value) wrong.push(`${name}_${i}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
