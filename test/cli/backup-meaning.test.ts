/**
 * Backups carry open rotations, so a `previous` restored from a backup taken during grace
 * (or a `pending` from one taken mid-rotation) is finished by `retire`/`emergency`/`resume`;
 * restore checks what an authentic archive means, not only its MAC; absurd KDF headers are
 * damage, reported at once.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { sealArchive, type Archive } from '../../src/backup/archive.js';
import { Sandbox } from '../helpers/sandbox.js';

const PASSPHRASE = 'correct horse battery staple 42';
const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));
const CONFIG = 'version: 1\nsecrets:\n  - { id: a, type: random, length: 32, encoding: hex, grace: 1h }\n';
const sandbox = async () => {
  const sb = new Sandbox(CONFIG);
  sandboxes.push(sb);
  sb.baseEnv.ROTOR_BACKUP_PASSPHRASE = PASSPHRASE;
  await sb.ok(['init']);
  return sb;
};
const stages = async (sb: Sandbox) => (await sb.json<{ versions: { version: number; stage: string }[] }>(['history', 'a'])).versions.map((v) => `v${v.version}:${v.stage}`);
const hex = (c: string) => JSON.stringify(c.repeat(32));
const version = (n: number, stage: string, value: string) => ({ version: n, stage, createdAt: 1, stageChangedAt: 1, rotationId: `r-test-${n}`, value }) as Archive['secrets'][number]['versions'][number];

/** An authentic archive with whatever content a test needs (as another tool, or a bug, could write). */
async function forged(sb: Sandbox, name: string, content: unknown): Promise<string> {
  writeFileSync(sb.path(name), await sealArchive(content as Archive, { passphrase: PASSPHRASE }));
  return name;
}

describe.concurrent('backups and open rotations', () => {
  it('a backup taken during grace restores a previous that `retire --force` revokes', async () => {
    const origin = await sandbox();
    await origin.ok(['rotate', 'a']);
    await origin.ok(['rotate', 'a']);
    expect(await stages(origin)).toEqual(['v1:previous', 'v2:current']);
    await origin.ok(['backup', 'create', '--out', 'b.bak']);

    const restored = await sandbox();
    const r = await restored.ok(['backup', 'restore', origin.path('b.bak')]);
    expect(r.stdout).toMatch(/1 rotation was open in the backup/);
    expect(await stages(restored)).toEqual(['v1:previous', 'v2:current']);
    await restored.ok(['retire', '--force', 'a']);
    expect(await stages(restored)).toEqual(['v1:retired', 'v2:current']);
  });

  it('an emergency after such a restore retires the previous too', async () => {
    const origin = await sandbox();
    await origin.ok(['rotate', 'a']);
    await origin.ok(['rotate', 'a']);
    await origin.ok(['backup', 'create', '--out', 'b.bak']);
    const restored = await sandbox();
    await restored.ok(['backup', 'restore', origin.path('b.bak')]);
    await restored.ok(['emergency', '--scope', 'all', '--incident', 'INC-1', '--reason', 'drill']);
    expect(await stages(restored)).toEqual(['v1:retired', 'v2:retired', 'v3:current']);
  });

  it('an archive without rotations (an older backup): its previous becomes retirable and its pending is withdrawn by resume', async () => {
    const sb = await sandbox();
    const file = await forged(sb, 'old.bak', { secrets: [{ id: 'a', versions: [version(1, 'previous', hex('1')), version(2, 'current', hex('2')), version(3, 'pending', hex('3'))] }] });
    await sb.ok(['backup', 'restore', file]);
    // Withdrawing the pending version is a rollback: exit 1, with the previous value current.
    expect((await sb.ok(['resume'], {}, 1)).stdout).toMatch(/ROLLED BACK\s+a\s+.*withdrawn/);
    expect(await stages(sb)).toEqual(['v1:previous', 'v2:current', 'v3:failed']);
    await sb.ok(['retire', '--due']);
    expect(await stages(sb)).toEqual(['v1:retired', 'v2:current', 'v3:failed']);
    expect((await sb.ok(['get', 'a'])).stdout.trim()).toBe('2'.repeat(32));
  });

  it.each([
    ['two current versions', [version(1, 'current', hex('1')), version(2, 'current', hex('2'))], /2 versions are staged current/, 3],
    ['a duplicate version number', [version(1, 'retired', hex('1')), version(1, 'current', hex('2'))], /version 1 appears twice/, 3],
    ['a value that does not fit the type', [version(1, 'current', JSON.stringify({ username: 'x' }))], /is not a random value/, 2],
  ])('an authentic archive with %s is refused with a clear message, nothing restored', async (_name, versions, message, code) => {
    const sb = await sandbox();
    const file = await forged(sb, 'bad.bak', { secrets: [{ id: 'a', versions }] });
    const r = await sb.run(['backup', 'restore', file]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/ZodError|at .*\.js:\d+/);
    expect(await stages(sb)).toEqual([]);
  });

  it('an archive of another layout: a clear message (exit 3), no validation dump', async () => {
    const sb = await sandbox();
    const file = await forged(sb, 'other.bak', { items: [{ name: 'a' }] });
    const r = await sb.run(['backup', 'restore', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not laid out as a Rotor backup/);
    expect(r.stderr).not.toMatch(/ZodError|"code":|at .*\.js:\d+/);
  });

  it.each([
    ['p=4000', { N: 32768, r: 8, p: 4000 }],
    ['N=2^24', { N: 2 ** 24, r: 8, p: 1 }],
    ['N not a power of two', { N: 30000, r: 8, p: 1 }],
  ])('a header with absurd scrypt parameters (%s) is damage: exit 3 within a second', async (_name, params) => {
    const sb = await sandbox();
    await sb.ok(['rotate', 'a']);
    await sb.ok(['backup', 'create', '--out', 'b.bak']);
    const text = (await import('node:fs')).readFileSync(sb.path('b.bak'), 'utf8');
    const [magic, header, body] = text.split('\n');
    const h = JSON.parse(header!);
    h.kdf = { ...h.kdf, ...params };
    writeFileSync(sb.path('evil.bak'), `${magic}\n${JSON.stringify(h)}\n${body}\n`);
    const started = Date.now();
    const r = await sb.run(['backup', 'verify', 'evil.bak']);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/header is unreadable/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
