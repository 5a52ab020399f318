/**
 * `rotor backup`: every version of every secret, restored on a new machine (new directory,
 * new master key) exactly; a wrong passphrase, a damaged or cut file, and a conflicting
 * state are each refused with nothing restored; the file holds no value in the clear.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, randomSecrets } from '../helpers/sandbox.js';

const PASSPHRASE = 'correct horse battery staple 42';
const sandboxes: Sandbox[] = [];
const sandbox = (config: string) => {
  const sb = new Sandbox(config);
  sandboxes.push(sb);
  sb.baseEnv.ROTOR_BACKUP_PASSPHRASE = PASSPHRASE;
  return sb;
};
afterAll(() => sandboxes.forEach((s) => s.remove()));

const CONFIG = `${randomSecrets(3)}  - { id: auth/jwt, type: jwt-keyset, algorithm: EdDSA, grace: 1h }\n`;
const IDS = ['app/key-0', 'app/key-1', 'app/key-2', 'auth/jwt'];

let origin: Sandbox;
let backup: string;
const values = new Map<string, string>();

beforeAll(async () => {
  origin = sandbox(CONFIG);
  await origin.ok(['init']);
  await origin.ok(['rotate', '--all', '--no-grace']);
  await origin.ok(['rotate', '--all']);
  await origin.ok(['rotate', 'app/key-0']);
  for (const id of IDS) {
    const h = await origin.json<{ versions: { version: number }[] }>(['history', id]);
    for (const v of h.versions) values.set(`${id} v${v.version}`, (await origin.ok(['get', id, '--version', String(v.version)])).stdout);
  }
  backup = origin.path('rotor.backup');
  const r = await origin.ok(['backup', 'create', '--out', backup]);
  expect(r.stdout).toMatch(/wrote .*rotor\.backup: 4 secrets, 9 versions, encrypted/);
}, 60_000);

const history = async (sb: Sandbox, id: string) => (await sb.json<{ versions: { version: number; stage: string; fingerprint: string }[] }>(['history', id])).versions.map((v) => `${v.version}:${v.stage}`);

describe('rotor backup', () => {
  it('restores every version and stage on a new machine with a new master key', async () => {
    const fresh = sandbox(CONFIG);
    await fresh.ok(['init']);
    expect(fresh.masterKey).not.toBe(origin.masterKey);
    await fresh.ok(['backup', 'verify', backup]);
    const r = await fresh.ok(['backup', 'restore', backup]);
    expect(r.stdout).toMatch(/restored 9 versions of 4 secrets/);
    for (const id of IDS) expect(await history(fresh, id)).toEqual(await history(origin, id));
    for (const [key, value] of values) {
      const [id, v] = key.split(' v');
      expect((await fresh.ok(['get', id!, '--version', v!])).stdout, key).toBe(value);
    }
    // The restored state works: rotate on from it, and the audit chain holds.
    await fresh.ok(['rotate', '--all', '--no-grace']);
    await fresh.ok(['audit', 'verify']);
    expect((await fresh.ok(['audit', 'export'])).stdout).toMatch(/backup\.restored/);
    // Restoring the same backup again finds every version present and matching: nothing to do.
    expect((await fresh.ok(['backup', 'restore', backup])).stdout).toMatch(/restored 0 versions of 0 secrets[\s\S]*9 versions were already here and match/);
  });

  it('the file is 0600, never overwritten, and holds no value in the clear (nor base64)', async () => {
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    const again = await origin.run(['backup', 'create', '--out', backup]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists[\s\S]*never overwrites a backup/);
    const text = readFileSync(backup, 'latin1');
    for (const value of values.values()) {
      const v = value.trim();
      for (const form of [v, Buffer.from(v).toString('base64')]) expect(text.includes(form)).toBe(false);
    }
    expect(text).not.toContain(PASSPHRASE);
  });

  it('a wrong passphrase is refused (exit 2) and nothing is restored', async () => {
    const fresh = sandbox(CONFIG);
    await fresh.ok(['init']);
    const r = await fresh.run(['backup', 'restore', backup], { ROTOR_BACKUP_PASSPHRASE: 'not the passphrase at all' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/wrong passphrase for this backup/);
    for (const id of IDS) expect(await history(fresh, id)).toEqual([]);
  });

  it.each([
    ['a changed byte', (b: Buffer) => { b[b.length - 30]! ^= 0x04; return b; }, /contents were changed or cut/],
    ['a cut tail', (b: Buffer) => b.subarray(0, b.length - 200), /contents were changed or cut|layout is broken/],
    ['a changed header', (b: Buffer) => Buffer.from(b.toString('latin1').replace('"version":2', '"version":9'), 'latin1'), /header is unreadable/],
    ['not a backup', () => Buffer.from('hello\n'), /does not start with the RTBK1 header/],
  ])('%s is refused as damaged (exit 3) and nothing is restored', async (_name, damage, message) => {
    const fresh = sandbox(CONFIG);
    await fresh.ok(['init']);
    const bad = fresh.path('damaged.backup');
    writeFileSync(bad, damage(Buffer.from(readFileSync(backup))));
    const before = fresh.files('.rotor');
    const r = await fresh.run(['backup', 'restore', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(fresh.files('.rotor')).toEqual(before);
  });

  it('a state that already holds different versions is a conflict: nothing restored', async () => {
    const other = sandbox(CONFIG);
    await other.ok(['init']);
    await other.ok(['rotate', 'app/key-1', '--no-grace']);
    const before = await history(other, 'app/key-2');
    const r = await other.run(['backup', 'restore', backup]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing restored: 2 conflicts[\s\S]*app\/key-1 v1: differs from the stored value[\s\S]*app\/key-1 v2: not in the state/);
    expect(await history(other, 'app/key-2')).toEqual(before);
  });

  it('works with a 32-byte key file instead of a passphrase, and says which one a backup needs', async () => {
    const keyFile = origin.path('backup.key');
    writeFileSync(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
    const out = origin.path('keyed.backup');
    await origin.ok(['backup', 'create', '--out', out, '--key-file', keyFile]);
    const fresh = sandbox(CONFIG);
    await fresh.ok(['init']);
    const withoutKey = await fresh.run(['backup', 'restore', out]);
    expect(withoutKey.code).toBe(2);
    expect(withoutKey.stderr).toMatch(/made with a key file[\s\S]*--key-file/);
    await fresh.ok(['backup', 'restore', out, '--key-file', keyFile]);
    expect((await fresh.ok(['get', 'auth/jwt'])).stdout).toBe((await origin.ok(['get', 'auth/jwt'])).stdout);
  });
});

describe('rotor backup files: the copies deliveries keep', () => {
  const FILES = `version: 1
defaults: { deliveryBackups: 2 }
stores:
  app-env: { type: env-file, path: app/.env }
consumers:
  api:
    deliver: [{ store: app-env, key: API_TOKEN }, { template: tpl/conf.tmpl, to: app/conf }]
secrets:
  - { id: app/token, type: random, consumers: [api], grace: 1h }
`;

  it('are sealed (no retired value on disk in the clear), the last N of each file, and one can be put back', async () => {
    const sb = sandbox(FILES);
    mkdirSync(sb.path('app'));
    mkdirSync(sb.path('tpl'));
    sb.write('app/.env', 'API_TOKEN=placeholder-token-0\nOTHER=keep\n');
    sb.write('tpl/conf.tmpl', 'token={{ value }}\n');
    sb.write('app/conf', 'token=placeholder-token-0\n');
    await sb.ok(['init']);
    const values: string[] = [];
    for (let i = 0; i < 4; i++) {
      await sb.ok(['rotate', 'app/token', '--no-grace']);
      values.push((await sb.ok(['get', 'app/token'])).stdout.trim());
    }
    // Nothing under .rotor holds a retired value (or the placeholder it replaced) in the clear.
    const disk = [...sb.files('.rotor').values()].map((b) => b.toString('latin1')).join('\n');
    for (const v of ['placeholder-token-0', ...values]) expect(disk.includes(v), v).toBe(false);

    const listed = await sb.json<{ files: { file: string; copies: { nth: number; at: string; bytes: number }[] }[] }>(['backup', 'files']);
    expect(listed.files.map((f) => [f.file, f.copies.length])).toEqual([[sb.path('app/.env'), 2], [sb.path('app/conf'), 2]]);

    // Copies: before rotations 3 and 4 (the last two). The second newest holds v2.
    const r = await sb.ok(['backup', 'files', '--restore', 'app/.env', '--nth', '2']);
    expect(r.stdout).toMatch(/restored .*app\/\.env as it was before/);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(`API_TOKEN=${values[1]}\nOTHER=keep\n`);
    const again = await sb.json<{ files: { file: string; copies: unknown[] }[] }>(['backup', 'files']);
    expect(again.files[0]!.copies).toHaveLength(2); // what the restore replaced is the newest copy now
    await sb.ok(['backup', 'files', '--restore', 'app/.env']);
    expect(readFileSync(sb.path('app/.env'), 'utf8')).toBe(`API_TOKEN=${values[3]}\nOTHER=keep\n`);
    expect((await sb.ok(['audit', 'export'])).stdout).toMatch(/backup\.file-restored/);

    const none = await sb.run(['backup', 'files', '--restore', 'app/nothing']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no copies of .*app\/nothing/);
  });

  it('plaintext copies an older Rotor left are reported, sealed and deleted', async () => {
    const sb = sandbox(FILES);
    mkdirSync(sb.path('app'));
    mkdirSync(sb.path('tpl'));
    sb.write('app/.env', 'API_TOKEN=x\n');
    sb.write('tpl/conf.tmpl', 'token={{ value }}\n');
    await sb.ok(['init']);
    mkdirSync(sb.path('.rotor/backups/app-env'), { recursive: true });
    mkdirSync(sb.path('.rotor/backups/templates'), { recursive: true });
    sb.write('.rotor/backups/app-env/.env.2026-01-01T00-00-00-000Z', 'API_TOKEN=legacy-retired-1\n');
    sb.write('.rotor/backups/templates/conf.2026-01-02T00-00-00-000Z', 'token=legacy-retired-2\n');
    const listed = await sb.ok(['backup', 'files']);
    expect(listed.stderr).toMatch(/2 plaintext copies from an older Rotor[\s\S]*--seal-legacy/);
    expect((await sb.ok(['backup', 'files', '--seal-legacy'])).stdout).toMatch(/sealed 2 plaintext copies/);
    const disk = [...sb.files('.rotor').values()].map((b) => b.toString('latin1')).join('\n');
    expect(disk).not.toMatch(/legacy-retired/);
    await sb.ok(['backup', 'files', '--restore', 'app/conf']);
    expect(readFileSync(sb.path('app/conf'), 'utf8')).toBe('token=legacy-retired-2\n');
  });
});
