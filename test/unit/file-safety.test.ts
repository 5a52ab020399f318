/**
 * The file layer under a root Rotor and hostile service users (tests run as root; the
 * service user is `nobody`, uid 65534):
 * - owner and mode go on the temp file before the rename, whatever the umask, so a link
 *   swapped in after the rename is never chowned;
 * - a symlink is kept and the file it points to updated — unless a less privileged user
 *   could have aimed it, or could swap the file in its directory: then nothing is written
 *   and the error names the path and the owner;
 * - a rewritten file keeps its owner, group and mode;
 * - writers in many processes each land their keys (a lock file beside the file), a dead
 *   holder's lock is broken, a live one is waited for.
 */
import { spawn } from 'node:child_process';
import fs, { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/fs/atomic.js';
import { lockPathOf } from '../../src/fs/file-lock.js';
import { resolveTarget } from '../../src/fs/safe-path.js';
import { replaceFile } from '../../src/fs/safe-replace.js';
import { envFile } from '../../src/delivery/files/env-file.js';
import { assignInFile } from '../../src/delivery/files/file.js';

const NOBODY = 65534;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (owner = 0) => {
  const d = mkdtempSync(join(tmpdir(), 'rotor-files-'));
  dirs.push(d);
  chownSync(d, owner, owner);
  return d;
};
const file = (path: string, text: string, opts: { uid?: number; mode?: number } = {}) => {
  writeFileSync(path, text);
  chownSync(path, opts.uid ?? 0, opts.uid ?? 0);
  chmodSync(path, opts.mode ?? 0o600);
  return path;
};
const link = (target: string, path: string, uid = 0) => {
  symlinkSync(target, path);
  lchownSync(path, uid, uid);
  return path;
};
const set = (path: string, key: string, value: string) => assignInFile(envFile, path, [{ key, value }]);

describe('owner and mode are set before the rename', () => {
  it('a link a service user swaps in right after the rename is never chowned', async () => {
    const dir = tempDir(NOBODY); // the service user owns the consumer's directory
    const env = file(join(dir, '.env'), 'A=1\n', { uid: NOBODY, mode: 0o640 });
    const victim = file(join(tempDir(), 'shadow'), 'root:secret\n', { mode: 0o600 });
    // The attacker moves Rotor's new file aside and puts a link to the victim in its place,
    // between Rotor's rename and whatever Rotor does next.
    const realRename = fs.renameSync;
    fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
      realRename(from, to);
      if (to === env) {
        realRename(env, `${env}.moved`);
        link(victim, env, NOBODY);
      }
    };
    syncBuiltinESMExports();
    try {
      await set(env, 'A', '2');
    } finally {
      fs.renameSync = realRename;
      syncBuiltinESMExports();
    }
    expect(statSync(victim).uid, 'the victim is still root\'s').toBe(0);
    expect(statSync(victim).mode & 0o777).toBe(0o600);
    const written = statSync(`${env}.moved`);
    expect([written.uid, written.gid, written.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o640]);
    expect(readFileSync(`${env}.moved`, 'utf8')).toBe('A=2\n');
  });

  it('the mode asked for is the mode written, whatever the umask', async () => {
    const path = join(tempDir(), 'jwks.json');
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(path, '{}', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('a rewritten file keeps its owner, group and mode', async () => {
    const dir = tempDir(NOBODY);
    const env = file(join(dir, '.env'), 'A=1\n', { uid: NOBODY, mode: 0o640 });
    await set(env, 'A', '2');
    const st = statSync(env);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o640]);
  });
});

describe('symlinks', () => {
  it('are kept: the file a link points to is updated (releases/current/.env → shared/.env)', async () => {
    const app = tempDir();
    mkdirSync(join(app, 'shared'));
    mkdirSync(join(app, 'releases', 'r1'), { recursive: true });
    const shared = file(join(app, 'shared', '.env'), 'A=old\nB=keep\n', { mode: 0o640 });
    link('r1', join(app, 'releases', 'current'));
    const env = link('../../shared/.env', join(app, 'releases', 'r1', '.env'));
    const change = await set(join(app, 'releases', 'current', '.env'), 'A', 'new');
    expect(change.real).toBe(shared);
    expect(lstatSync(env).isSymbolicLink()).toBe(true);
    expect(readFileSync(shared, 'utf8')).toBe('A=new\nB=keep\n');
    expect(statSync(shared).mode & 0o777).toBe(0o640);
  });

  it('owned by a service user and pointing at its own file are followed', async () => {
    const dir = tempDir(NOBODY);
    const real = file(join(dir, 'real.env'), 'A=1\n', { uid: NOBODY });
    const env = link('real.env', join(dir, '.env'), NOBODY);
    await set(env, 'A', '2');
    expect(lstatSync(env).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('A=2\n');
  });

  it('owned by a service user and pointing at another user\'s file are refused: nothing written, nothing copied', async () => {
    const secrets = tempDir();
    chmodSync(secrets, 0o700); // root-only, so the file's own 0644 protects nothing once copied out
    const secret = file(join(secrets, 'secret.txt'), 'ROOT_ONLY=hunter2\n', { mode: 0o644 });
    const app = tempDir();
    const env = link(secret, join(app, '.env'), NOBODY);
    await expect(set(env, 'A', 'x')).rejects.toThrow(new RegExp(`${env} is a symbolic link owned by nobody \\(uid 65534\\) to a file of root \\(uid 0\\)`));
    await expect(set(env, 'A', 'x')).rejects.toMatchObject({ name: 'UnsafePathError', outcome: 'rolled-back', hint: expect.stringMatching(/^make root own the link \(chown -h root /) });
    expect(lstatSync(env).isSymbolicLink()).toBe(true);
    expect(readFileSync(secret, 'utf8')).toBe('ROOT_ONLY=hunter2\n');
    expect(readdirSync(app)).toEqual(['.env']);
  });

  it('a dangling link a service user owns is refused (it would choose where Rotor creates a file)', async () => {
    const app = tempDir();
    const env = link(join(tempDir(), 'cron-job'), join(app, '.env'), NOBODY);
    await expect(set(env, 'A', 'x')).rejects.toThrow(/owned by nobody \(uid 65534\) to a file that does not exist/);
  });
});

describe('directories others can change', () => {
  it('a root file in a directory a service user owns is refused (it may be a planted hard link)', async () => {
    const dir = tempDir(NOBODY);
    const env = file(join(dir, '.env'), 'A=1\n');
    await expect(set(env, 'A', '2')).rejects.toThrow(new RegExp(`${dir} is owned by nobody \\(uid 65534\\), who could swap the file of root`));
    expect(readFileSync(env, 'utf8')).toBe('A=1\n');
  });

  it('a world-writable directory, and one group-writable by a service group, are refused', async () => {
    const open = tempDir();
    chmodSync(open, 0o777);
    await expect(set(file(join(open, '.env'), 'A=1\n'), 'A', '2')).rejects.toThrow(/is writable by every user/);
    const shared = tempDir();
    chownSync(shared, 0, NOBODY);
    chmodSync(shared, 0o775);
    await expect(set(file(join(shared, '.env'), 'A=1\n'), 'A', '2')).rejects.toThrow(/is writable by group 65534/);
  });

  it('a new file in a service user\'s directory is created as that user\'s (who could replace it anyway)', async () => {
    const dir = tempDir(NOBODY);
    await set(join(dir, '.env'), 'A', '1');
    const st = statSync(join(dir, '.env'));
    expect([st.uid, st.mode & 0o777]).toEqual([NOBODY, 0o600]);
    await set(join(dir, '.env'), 'A', '2'); // and the next delivery accepts it
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('A=2\n');
  });
});

describe('resolveTarget', () => {
  it('follows chains of links and .. after a link as the kernel does', () => {
    const root = tempDir();
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    const target = file(join(root, 'a', 'f'), 'x');
    link('a/b', join(root, 'lb'));
    link('../f', join(root, 'a', 'b', 'up'));
    link(join(root, 'a', 'b', 'up'), join(root, 'abs'));
    expect(resolveTarget(join(root, 'abs')).real).toBe(target);
    // lb/.. is a/, not root/: the link is taken before the ..
    expect(resolveTarget(`${root}/lb/../f`).real).toBe(target);
    expect(resolveTarget(join(root, 'abs')).links).toEqual([join(root, 'abs'), join(root, 'a', 'b', 'up')]);
    expect(resolveTarget(join(root, 'a', 'new', 'g')).stat).toBeUndefined();
  });

  it('the policy, case by case: who owns the link, the file and its directory', () => {
    const cases: [string, () => string, RegExp | null][] = [
      ['root link to a service user\'s file', () => link(file(join(tempDir(NOBODY), 'f'), 'x', { uid: NOBODY }), join(tempDir(), 'l')), null],
      ['service link to its own file', () => link(file(join(tempDir(NOBODY), 'f'), 'x', { uid: NOBODY }), join(tempDir(), 'l'), NOBODY), null],
      ['service link to root\'s file', () => link(file(join(tempDir(), 'f'), 'x'), join(tempDir(), 'l'), NOBODY), /symbolic link owned by nobody/],
      ['service file in its own directory', () => file(join(tempDir(NOBODY), 'f'), 'x', { uid: NOBODY }), null],
      ['root file in a service directory', () => file(join(tempDir(NOBODY), 'f'), 'x'), /is owned by nobody/],
      ['service file in root\'s directory', () => file(join(tempDir(), 'f'), 'x', { uid: NOBODY }), null],
    ];
    for (const [name, make, refused] of cases) {
      const path = make();
      if (refused) expect(() => resolveTarget(path), name).toThrow(refused);
      else expect(resolveTarget(path).stat, name).toBeDefined();
    }
    expect(resolveTarget(join(tempDir(NOBODY), 'new')).newOwner).toEqual({ uid: NOBODY, gid: NOBODY });
    expect(resolveTarget(join(tempDir(), 'new')).newOwner).toBeUndefined();
  });

  it('refuses what is not a regular file, and link loops', () => {
    const root = tempDir();
    expect(() => resolveTarget(root)).toThrow(/is not a regular file/);
    link('loop2', join(root, 'loop1'));
    link('loop1', join(root, 'loop2'));
    expect(() => resolveTarget(join(root, 'loop1'))).toThrow(/too many symbolic links/);
  });
});

describe('a lock across processes', () => {
  it('many writers in separate processes: every key lands', async () => {
    const dir = tempDir();
    const bundle = join(dir, 'writer.mjs');
    buildSync({
      stdin: {
        contents: `import { assignInFile } from './src/delivery/files/file.ts'; import { envFile } from './src/delivery/files/env-file.ts';
          const [path, id] = process.argv.slice(2);
          for (let i = 0; i < 25; i++) await assignInFile(envFile, path, [{ key: 'W' + id + '_' + i, value: 'v' + i }]);`,
        resolveDir: resolve(import.meta.dirname, '../..'), loader: 'ts',
      },
      outfile: bundle, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent',
    });
    const env = file(join(dir, '.env'), '# shared\n');
    const codes = await Promise.all(Array.from({ length: 6 }, (_, id) => new Promise<number | null>((done) => {
      const child = spawn(process.execPath, [bundle, env, String(id)], { stdio: 'inherit' });
      child.on('exit', done);
    })));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const text = readFileSync(env, 'utf8');
    const missing = Array.from({ length: 6 }, (_, id) => Array.from({ length: 25 }, (_, i) => `W${id}_${i}`)).flat().filter((k) => envFile.read(text, k) === undefined);
    expect(missing).toEqual([]);
    expect(existsSync(lockPathOf(env))).toBe(false);
  });

  it('breaks the lock of a holder that is gone, or too old; waits for a live one, then says who holds it', async () => {
    const dir = tempDir();
    const env = file(join(dir, '.env'), 'A=1\n');
    const lock = lockPathOf(env);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(lock, JSON.stringify({ pid: dead.pid, host: hostname(), at: Date.now() }));
    await set(env, 'A', '2');
    expect(existsSync(lock)).toBe(false);

    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() - 3_600_000 }));
    await set(env, 'A', '3');

    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
    const started = Date.now();
    await expect(replaceFile(env, () => 'A=4\n', { lock: { timeoutMs: 300 } })).rejects.toThrow(new RegExp(`${env} is being written by another process \\(pid ${process.pid} on `));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(readFileSync(env, 'utf8')).toBe('A=3\n');
    expect(existsSync(lock), 'a lock Rotor does not hold is left alone').toBe(true);
  });
});
