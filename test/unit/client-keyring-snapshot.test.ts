/**
 * Issue 12, item 10: processes started from one Node startup snapshot (or a single-executable
 * app built with one) must not encrypt with the same AES-GCM nonces. The keyring is bundled
 * into a snapshot that has already encrypted once (as an app warming up would), the snapshot
 * is started three times, and every nonce must differ.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, expect, it } from 'vitest';
import { createKeyring } from '../../src/client/keyring.js';

const dir = mkdtempSync(join(tmpdir(), 'rotor-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const value = { primary: 'k', keys: [{ id: 'k', key: Buffer.alloc(32, 7).toString('base64') }] };

it('processes started from one startup snapshot draw different nonces', async () => {
  writeFileSync(join(dir, 'entry.ts'), `
    import { startupSnapshot } from 'node:v8';
    import { createKeyring } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/client/keyring.ts'))};
    const value = ${JSON.stringify(value)};
    createKeyring(value).encrypt('warm-up before the snapshot is taken');
    startupSnapshot.setDeserializeMainFunction(() => {
      const ring = createKeyring(value);
      process.stdout.write(JSON.stringify([ring.encrypt('same'), ring.encrypt('same')]));
    });
  `);
  await build({ entryPoints: [join(dir, 'entry.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: join(dir, 'entry.cjs'), logLevel: 'warning' });
  const blob = join(dir, 'snap.blob');
  execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', join(dir, 'entry.cjs')], { cwd: dir });

  const ciphertexts = [1, 2, 3].flatMap(() => JSON.parse(execFileSync(process.execPath, ['--snapshot-blob', blob], { cwd: dir, encoding: 'utf8' })) as string[]);
  const ring = createKeyring(value);
  for (const c of ciphertexts) expect(ring.decryptString(c)).toBe('same');
  const nonces = ciphertexts.map((c) => Buffer.from(c.slice('rk1:k:'.length), 'base64url').subarray(0, 12).toString('hex'));
  expect(new Set(nonces).size).toBe(6);
}, 60_000);
