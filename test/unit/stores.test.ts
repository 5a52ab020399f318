/**
 * The store conformance suite: every VersionStore runs the same tests, one line each.
 */
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalVault } from '../../src/stores/local-vault/vault.js';
import { MemoryVersionStore } from '../../src/stores/memory/store.js';
import type { VersionStore } from '../../src/stores/types.js';
import { MasterKeyError } from '../../src/errors.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rotor-store-'));
  dirs.push(d);
  return d;
};

function runStoreConformance(name: string, make: () => Promise<VersionStore>) {
  describe(`${name} conformance`, () => {
    it('stores and returns versions; unknown versions are undefined', async () => {
      const s = await make();
      await s.putVersion({ secretId: 'a/b', version: 1, rotationId: 'r-1', plaintext: '"one"' });
      await s.putVersion({ secretId: 'a/b', version: 2, rotationId: 'r-1', plaintext: '"two"' });
      expect(await s.getVersion({ secretId: 'a/b', version: 1, rotationId: 'r-1' })).toBe('"one"');
      expect(await s.getVersion({ secretId: 'a/b', version: 2, rotationId: 'r-1' })).toBe('"two"');
      expect(await s.getVersion({ secretId: 'a/b', version: 3, rotationId: 'r-1' })).toBeUndefined();
      expect(await s.getVersion({ secretId: 'a/c', version: 1, rotationId: 'r-1' })).toBeUndefined();
    });
    it('putting the same version again with the same value is a no-op', async () => {
      const s = await make();
      await s.putVersion({ secretId: 'x', version: 1, rotationId: 'r-1', plaintext: 'v' });
      await s.putVersion({ secretId: 'x', version: 1, rotationId: 'r-1', plaintext: 'v' });
      expect(await s.getVersion({ secretId: 'x', version: 1, rotationId: 'r-1' })).toBe('v');
    });
    it('never overwrites a stored version with another value', async () => {
      const s = await make();
      await s.putVersion({ secretId: 'x', version: 1, rotationId: 'r-1', plaintext: 'v' });
      await expect(s.putVersion({ secretId: 'x', version: 1, rotationId: 'r-1', plaintext: 'w' })).rejects.toThrow(/already stored/);
      expect(await s.getVersion({ secretId: 'x', version: 1, rotationId: 'r-1' })).toBe('v');
    });
    it('binds a version to the rotation that stored it: another rotation of the same number neither reads it nor is refused its own', async () => {
      const s = await make();
      await s.putVersion({ secretId: 'x', version: 5, rotationId: 'r-later', plaintext: 'leaked' });
      expect(await s.getVersion({ secretId: 'x', version: 5, rotationId: 'r-restored', exact: true })).toBeUndefined();
      await s.putVersion({ secretId: 'x', version: 5, rotationId: 'r-restored', plaintext: 'fresh' });
      expect(await s.getVersion({ secretId: 'x', version: 5, rotationId: 'r-restored' })).toBe('fresh');
      expect(await s.getVersion({ secretId: 'x', version: 5, rotationId: 'r-later' })).toBe('leaked');
    });
    it('keeps ids that differ only in separators apart', async () => {
      const s = await make();
      await s.putVersion({ secretId: 'a/b', version: 1, rotationId: 'r-1', plaintext: '1' });
      await s.putVersion({ secretId: 'a%2Fb', version: 1, rotationId: 'r-1', plaintext: '2' });
      expect(await s.getVersion({ secretId: 'a/b', version: 1, rotationId: 'r-1' })).toBe('1');
    });
  });
}

runStoreConformance('memory', async () => new MemoryVersionStore());
runStoreConformance('local vault', async () => {
  const v = new LocalVault({ dir: join(tempDir(), 'vault'), key: randomBytes(32) });
  await v.initialize();
  return v;
});

describe('local vault', () => {
  it('leaves no temp files behind and stores no plaintext', async () => {
    const dir = join(tempDir(), 'vault');
    const v = new LocalVault({ dir, key: randomBytes(32) });
    await v.initialize();
    await v.putVersion({ secretId: 's', version: 1, rotationId: 'r-1', plaintext: 'plain-canary-value' });
    const files = readdirSync(join(dir, 's'));
    expect(files).toEqual(['v1-r-1.enc']);
  });
  it('a file renamed to another rotation fails its integrity check', async () => {
    const dir = join(tempDir(), 'vault');
    const v = new LocalVault({ dir, key: randomBytes(32) });
    await v.initialize();
    await v.putVersion({ secretId: 's', version: 5, rotationId: 'r-later', plaintext: '"leaked"' });
    renameSync(join(dir, 's', 'v5-r-later.enc'), join(dir, 's', 'v5-r-restored.enc'));
    await expect(v.getVersion({ secretId: 's', version: 5, rotationId: 'r-restored', exact: true })).rejects.toThrow(/integrity/);
  });
  it('refuses another key with a MasterKeyError', async () => {
    const dir = join(tempDir(), 'vault');
    await new LocalVault({ dir, key: randomBytes(32) }).initialize();
    expect(() => new LocalVault({ dir, key: randomBytes(32) }).checkKey()).toThrow(MasterKeyError);
  });
});
