/**
 * The copies a delivery keeps of the file it replaced: sealed (no byte of the text in the
 * clear), 0600 in a 0700 directory, only the last `keep` of each file, bound to their file
 * (a copy moved into another file's place does not open) and to the master key.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SealedDeliveryBackups } from '../../src/backup/delivery-backups.js';
import { deriveKeys, newMasterKey } from '../../src/crypto/master-key.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'rotor-dbk-'));
  dirs.push(d);
  return join(d, 'backups');
};

describe('sealed delivery backups', () => {
  const key = deriveKeys(newMasterKey()).deliveryBackup;
  let t = Date.parse('2026-11-23T10:00:00.000Z');
  const clock = () => new Date((t += 1000));

  it('seal the text, keep the last N of each file, newest first', async () => {
    const backups = new SealedDeliveryBackups({ dir: fresh(), key, keep: 3, now: clock });
    for (let i = 1; i <= 5; i++) await backups.save('/srv/api/.env', `TOKEN=old-value-${i}\n`);
    await backups.save('/srv/web/.env', 'TOKEN=web-value\n');
    const [api, web] = backups.list();
    expect(api!.file).toBe('/srv/api/.env');
    expect(api!.copies.map((c) => backups.read(api!.file, c))).toEqual(['TOKEN=old-value-5\n', 'TOKEN=old-value-4\n', 'TOKEN=old-value-3\n']);
    expect(web!.copies).toHaveLength(1);
    for (const c of [...api!.copies, ...web!.copies]) {
      expect(readFileSync(c.path, 'latin1')).not.toMatch(/TOKEN|value/);
      expect(statSync(c.path).mode & 0o777).toBe(0o600);
    }
    expect(statSync(dirname(api!.copies[0]!.path)).mode & 0o777).toBe(0o700);
  });

  it('keep 0 keeps nothing', async () => {
    const dir = fresh();
    expect(await new SealedDeliveryBackups({ dir, key, keep: 0 }).save('/srv/api/.env', 'A=1\n')).toBeUndefined();
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  it('a copy moved into another file\'s place, or opened with another master key, does not open', async () => {
    const dir = fresh();
    const backups = new SealedDeliveryBackups({ dir, key, keep: 5, now: clock });
    await backups.save('/srv/api/.env', 'A=api\n');
    await backups.save('/srv/web/.env', 'A=web\n');
    const [api, web] = backups.list();
    renameSync(api!.copies[0]!.path, join(dirname(web!.copies[0]!.path), basename(api!.copies[0]!.path)));
    const moved = backups.list().find((f) => f.file === '/srv/web/.env')!;
    expect(moved.copies).toHaveLength(2);
    const bad = moved.copies.find((c) => c.path !== web!.copies[0]!.path)!;
    expect(() => backups.read('/srv/web/.env', bad)).toThrow(/does not open as a backup of \/srv\/web\/\.env/);
    const other = new SealedDeliveryBackups({ dir, key: deriveKeys(newMasterKey()).deliveryBackup, keep: 5 });
    expect(() => other.read('/srv/web/.env', web!.copies[0]!)).toThrow(/authentication-failed/);
  });
});
