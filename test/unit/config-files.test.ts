/**
 * Delivery into .env, JSON and YAML files: only the assigned values change (everything else
 * byte-for-byte), values round-trip whatever characters they hold, a file that does not
 * parse is left alone, the original mode is kept, a 0600 backup is taken, and a writer
 * killed at any moment leaves the old file or the new one, never a mix.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { envFile, quoteEnv } from '../../src/stores/config-files/env-file.js';
import { jsonFile } from '../../src/stores/config-files/json-file.js';
import { yamlFile } from '../../src/stores/config-files/yaml-file.js';
import { assignInFile } from '../../src/stores/config-files/file.js';

const NASTY = 'p@ss "w$rd` \\ #not-a-comment\nline2';

describe('env-file', () => {
  const original = [
    '# database settings',
    'export DB_HOST=db.internal',
    'DB_PASSWORD="old-secret" # rotated by Rotor',
    '',
    "API_KEY='sk_live_old'",
    'UNRELATED=keep me  # and this comment',
    '',
  ].join('\n');

  it('changes only the values, keeping comments, order, export, quotes of others and inline comments', () => {
    const out = envFile.edit(original, [{ key: 'DB_PASSWORD', value: 'n3w-Secret_1' }, { key: 'API_KEY', value: 'sk_live_new' }]);
    expect(out).toBe(original.replace('"old-secret"', 'n3w-Secret_1').replace("'sk_live_old'", 'sk_live_new'));
  });

  it('quotes values that need it, and they read back exactly', () => {
    const out = envFile.edit(original, [{ key: 'DB_PASSWORD', value: NASTY }]);
    expect(envFile.read(out, 'DB_PASSWORD')).toBe(NASTY);
    expect(out.split('\n')).toHaveLength(original.split('\n').length);
    expect(quoteEnv('abc123')).toBe('abc123');
    expect(quoteEnv('a b')).toBe('"a b"');
  });

  it('appends a missing key and keeps CRLF line ends', () => {
    expect(envFile.edit('A=1\n', [{ key: 'B', value: '2' }])).toBe('A=1\nB=2\n');
    expect(envFile.edit('A=1\r\nC=3\r\n', [{ key: 'C', value: '4' }])).toBe('A=1\r\nC=4\r\n');
    expect(() => envFile.edit('', [{ key: 'BAD NAME', value: 'x' }])).toThrow(/not a valid environment variable name/);
  });
});

describe('json', () => {
  it('sets a dot path, keeping key order, indentation and the final newline', () => {
    const original = '{\n    "name": "api",\n    "database": {\n        "user": "app",\n        "password": "old"\n    },\n    "port": 8000\n}\n';
    const out = jsonFile.edit(original, [{ key: 'database.password', value: NASTY }]);
    expect(out).toBe(original.replace('"old"', JSON.stringify(NASTY)));
    expect(jsonFile.read(out, 'database.password')).toBe(NASTY);
    expect(jsonFile.edit('{\n  "a": 1\n}', [{ key: 'b.c', value: 'x' }])).toBe('{\n  "a": 1,\n  "b": {\n    "c": "x"\n  }\n}');
  });
});

describe('yaml', () => {
  it('sets a dot path and keeps comments and every other line', () => {
    const original = '# app config\nserver:\n  port: 8000 # public\ndatabase:\n  user: app\n  password: old # rotated\n# end\n';
    const out = yamlFile.edit(original, [{ key: 'database.password', value: 'n3w-Secret' }]);
    expect(out).toBe(original.replace('password: old', 'password: n3w-Secret'));
    expect(yamlFile.read(yamlFile.edit(original, [{ key: 'database.password', value: NASTY }]), 'database.password')).toBe(NASTY);
  });
});

describe('assignInFile', () => {
  it('keeps the mode, takes a 0600 backup of the original, and leaves a file it cannot parse untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, '{\n  "password": "old"\n}\n');
    chmodSync(path, 0o640);
    const change = await assignInFile(jsonFile, path, [{ key: 'password', value: 'new' }], { backupDir: join(dir, 'backups') });
    expect(change.changed).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readFileSync(change.backup!, 'utf8')).toBe('{\n  "password": "old"\n}\n');
    expect(statSync(change.backup!).mode & 0o777).toBe(0o600);
    expect((await assignInFile(jsonFile, path, [{ key: 'password', value: 'new' }], { backupDir: join(dir, 'backups') })).changed).toBe(false);

    writeFileSync(path, '{ not json');
    await expect(assignInFile(jsonFile, path, [{ key: 'password', value: 'x' }], { backupDir: join(dir, 'backups') })).rejects.toThrow();
    expect(readFileSync(path, 'utf8')).toBe('{ not json');
  });

  it('concurrent deliveries into one file (several secrets of one run) lose none of each other\'s keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-'));
    const path = join(dir, '.env');
    writeFileSync(path, '# shared\n');
    await Promise.all(Array.from({ length: 20 }, (_, i) => assignInFile(envFile, path, [{ key: `K${i}`, value: `v${i}` }], { backupDir: join(dir, 'backups') })));
    const text = readFileSync(path, 'utf8');
    for (let i = 0; i < 20; i++) expect(envFile.read(text, `K${i}`), `K${i}`).toBe(`v${i}`);
  });

  it('keeps every backup when changes land within the same millisecond: the first holds the original', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-'));
    const path = join(dir, '.env');
    writeFileSync(path, 'A=original\n');
    const now = new Date('2026-11-23T10:00:00.000Z');
    const first = await assignInFile(envFile, path, [{ key: 'A', value: 'one' }], { backupDir: join(dir, 'backups'), now });
    const second = await assignInFile(envFile, path, [{ key: 'A', value: 'two' }], { backupDir: join(dir, 'backups'), now });
    expect(second.backup).not.toBe(first.backup);
    expect(readFileSync(first.backup!, 'utf8')).toBe('A=original\n');
    expect(readFileSync(second.backup!, 'utf8')).toBe('A=one\n');
    expect(statSync(second.backup!).mode & 0o777).toBe(0o600);
  });

  it('a writer killed at random moments leaves the old file or the new one, never a mix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-crash-'));
    const bundle = join(dir, 'writer.mjs');
    buildSync({
      stdin: {
        contents: `import { assignInFile } from './src/stores/config-files/file.ts'; import { envFile } from './src/stores/config-files/env-file.ts';
          const [path, value] = process.argv.slice(2);
          for (;;) await assignInFile(envFile, path, [{ key: 'SECRET', value: value + Math.random() }], { backupDir: path + '.backups' });`,
        resolveDir: resolve(import.meta.dirname, '../..'), loader: 'ts',
      },
      outfile: bundle, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent',
    });
    const path = join(dir, '.env');
    const filler = Array.from({ length: 2000 }, (_, i) => `KEEP_${i}=value-${i}`).join('\n');
    writeFileSync(path, `${filler}\nSECRET=start\n`);
    const isWhole = (text: string) => text.startsWith(`${filler}\n`) && /^SECRET=(start|v[0-9.]+)\n$/.test(text.slice(filler.length + 1));
    for (let i = 0; i < 15; i++) {
      const child = spawn(process.execPath, [bundle, path, 'v'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 120));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      expect(isWhole(readFileSync(path, 'utf8')), 'the file is the old one or a new one, whole').toBe(true);
    }
    // Temp files a killed writer left behind are never the live file.
    expect(readdirSync(dir).filter((f) => f === '.env')).toEqual(['.env']);
  });
});

describe('parse errors', () => {
  it('name where a file does not parse without quoting it (it may hold other secrets)', () => {
    const secret = 'hunter2-unrelated-secret';
    for (const [format, text] of [[jsonFile, `{ "other": "${secret}" x }`], [jsonFile, `not json ${secret}`], [yamlFile, `a: b: ${secret}\n`]] as const) {
      let message = '';
      try {
        format.edit(text, [{ key: 'k', value: 'v' }]);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/does not parse/);
      expect(message).not.toContain(secret);
    }
  });
});
