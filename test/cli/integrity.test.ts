/**
 * Damaged or wrongly-keyed data is detected with a clear message and exit 2 or 3, and
 * Rotor writes nothing: every file under .rotor/ is byte-for-byte as before.
 */
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, randomSecrets } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

async function rotated(): Promise<Sandbox> {
  const sb = new Sandbox(randomSecrets(2));
  sandboxes.push(sb);
  await sb.ok(['init']);
  await sb.ok(['rotate', '--all', '--no-grace']);
  await sb.ok(['rotate', '--all']);
  return sb;
}

function expectUntouched(sb: Sandbox, before: Map<string, Buffer>) {
  const after = sb.files('.rotor');
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [p, bytes] of before) expect(after.get(p)!.equals(bytes), `${p} changed`).toBe(true);
}

/** Vault files byte-for-byte, and the state's records (versions, rotations, audit) as data. */
async function records(sb: Sandbox) {
  return {
    vault: [...sb.files('.rotor/vault')].map(([p, b]) => `${p}:${b.toString('hex')}`).sort(),
    history: [(await sb.run(['history', 'app/key-0', '--json'])).stdout, (await sb.run(['history', 'app/key-1', '--json'])).stdout],
    audit: (await sb.run(['audit', 'export'])).stdout,
  };
}

const vaultFile = (sb: Sandbox) => {
  const dir = sb.path('.rotor', 'vault', encodeURIComponent('app/key-0'));
  return `${dir}/${readdirSync(dir).sort().at(-1)}`;
};

describe.concurrent('integrity', () => {
  it('a flipped byte in a vault file: exit 3 naming the file, nothing written', async () => {
    const sb = await rotated();
    const file = vaultFile(sb);
    const bytes = readFileSync(file);
    bytes[bytes.length - 20]! ^= 0x01;
    writeFileSync(file, bytes);
    const before = await records(sb);
    for (const args of [['rotate', 'app/key-0', '--no-grace'], ['retire', '--force', 'app/key-0'], ['get', 'app/key-0']]) {
      const r = await sb.run(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stdout + r.stderr).toContain('integrity');
      expect(r.stdout + r.stderr).toContain(encodeURIComponent('app/key-0'));
    }
    // `get` audits the read; the failed rotate and retire recorded nothing.
    expect(await records(sb)).toEqual(before);
  });

  it('a truncated vault file: exit 3, nothing written', async () => {
    const sb = await rotated();
    truncateSync(vaultFile(sb), 10);
    const before = sb.files('.rotor');
    const r = await sb.run(['get', 'app/key-0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/truncated/);
    expectUntouched(sb, before);
  });

  it('a wrong master key: exit 2 saying the key does not match, nothing written', async () => {
    const sb = await rotated();
    const before = sb.files('.rotor');
    const wrong = { ROTOR_MASTER_KEY: randomBytes(32).toString('base64') };
    for (const args of [['get', 'app/key-0'], ['rotate', '--all'], ['resume'], ['retire', '--force']]) {
      const r = await sb.run(args, wrong);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/master key (does not open|is not the one)/);
    }
    expectUntouched(sb, before);
  });

  it('a malformed master key: exit 2 with how to make one', async () => {
    const sb = await rotated();
    const r = await sb.run(['get', 'app/key-0'], { ROTOR_MASTER_KEY: 'not-a-key' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/openssl rand -base64 32/);
  });

  it('a damaged state database header: exit 3, nothing written', async () => {
    const sb = await rotated();
    const db = sb.path('.rotor', 'state.db');
    const bytes = readFileSync(db);
    bytes.write('NOT A SQLITE FILE', 0);
    writeFileSync(db, bytes);
    const before = sb.files('.rotor');
    for (const args of [['status'], ['rotate', '--all'], ['audit', 'verify']]) {
      const r = await sb.run(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(/state database is damaged/);
    }
    expectUntouched(sb, before);
  });

  it('a truncated state database: exit 3, nothing written', async () => {
    const sb = await rotated();
    const db = sb.path('.rotor', 'state.db');
    truncateSync(db, 4096 + 100);
    const before = sb.files('.rotor');
    const r = await sb.run(['rotate', '--all']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/damaged/);
    expectUntouched(sb, before);
  });

  it.each([
    ['a changed audit event', "UPDATE audit SET actor = 'mallory' WHERE seq = 5", /event #5 was changed/],
    ['a removed audit event', 'DELETE FROM audit WHERE seq = 7', /chain breaks at event #8/],
    [
      'reordered audit events',
      'UPDATE audit SET seq = -1 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = -1;',
      /chain breaks at event #3/,
    ],
  ])('%s: `audit verify` exits 3 naming where', async (_name, sql, message) => {
    const sb = await rotated();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(sb.path('.rotor', 'state.db'));
    db.exec(sql);
    db.close();
    const r = await sb.run(['audit', 'verify']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
  });
});

describe('an older state restored by hand', () => {
  it('never brings back a value a later rotation stored: the vault file of that rotation is not reused', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    try {
      await sb.ok(['init']);
      await sb.ok(['rotate', 'a', '--no-grace']);
      const { copyFileSync, existsSync } = await import('node:fs');
      // A copy of the state as it was after v1 (the WAL holds committed pages until a checkpoint).
      for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) if (existsSync(sb.path('.rotor', f))) copyFileSync(sb.path('.rotor', f), sb.path(`${f}.old`));
      await sb.ok(['rotate', 'a', '--no-grace']);
      const leaked = (await sb.ok(['get', 'a'])).stdout.trim(); // v2: say it leaked
      await sb.ok(['rotate', 'a', '--no-grace']);
      for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) if (existsSync(sb.path(`${f}.old`))) copyFileSync(sb.path(`${f}.old`), sb.path('.rotor', f));

      await sb.ok(['rotate', 'a', '--no-grace']);
      const now = (await sb.ok(['get', 'a'])).stdout.trim();
      expect(now).not.toBe(leaked);
      expect(now).toHaveLength(32);
      await sb.ok(['audit', 'verify']);
    } finally {
      sb.remove();
    }
  });
});

describe('state file permissions', () => {
  it('init creates the state database readable by its owner only', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    try {
      await sb.ok(['init']);
      await sb.ok(['rotate', 'a']);
      const { statSync } = await import('node:fs');
      expect(statSync(sb.path('.rotor', 'state.db')).mode & 0o777).toBe(0o600);
      expect(statSync(sb.path('.rotor')).mode & 0o077).toBe(0);
    } finally {
      sb.remove();
    }
  });
});
