/**
 * Delivery into .env, JSON and YAML files: only the assigned values change (everything else
 * byte-for-byte), values round-trip whatever characters they hold, a file that does not
 * parse is left alone, the original mode is kept, a sealed backup is taken, and a writer
 * killed at any moment leaves the old file or the new one, never a mix.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { envFile, quoteEnv } from '../../src/delivery/files/env-file.js';
import { jsonFile } from '../../src/delivery/files/json-file.js';
import { yamlFile } from '../../src/delivery/files/yaml-file.js';
import { assignInFile } from '../../src/delivery/files/file.js';
import { SealedDeliveryBackups } from '../../src/backup/delivery-backups.js';

const KEY = Buffer.alloc(32, 7);
const backupsIn = (dir: string, now?: () => Date) => new SealedDeliveryBackups({ dir, key: KEY, keep: 5, now });

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

describe('env-file: quoted values over several lines', () => {
  const PEM_OLD = '-----BEGIN PRIVATE KEY-----\nOLDBODY1111\nOLDBODY2222\n-----END PRIVATE KEY-----';
  const PEM_NEW = '-----BEGIN PRIVATE KEY-----\nNEWBODY3333\n-----END PRIVATE KEY-----';

  it.each([['double', '"'], ['single', "'"]])('replaces a %s-quoted PEM whole, and nothing else', (_name, q) => {
    const original = `# keys\nA=1\nTLS_KEY=${q}${PEM_OLD}${q} # rotated\nB=2\n`;
    const out = envFile.edit(original, [{ key: 'TLS_KEY', value: PEM_NEW }]);
    expect(out).toBe(`# keys\nA=1\nTLS_KEY=${q}${PEM_NEW}${q} # rotated\nB=2\n`);
    expect(out).not.toContain('OLDBODY');
    expect(envFile.read(out, 'TLS_KEY')).toBe(PEM_NEW);
    // A single-line value in its place: the old body still goes.
    const flat = envFile.edit(original, [{ key: 'TLS_KEY', value: 'short' }]);
    expect(flat).toBe('# keys\nA=1\nTLS_KEY=short # rotated\nB=2\n');
  });

  it('never takes a line inside a quoted value for a key, and keeps CRLF', () => {
    const original = 'CERT="line one\r\nB=not-a-key\r\nend"\r\nB=real\r\n';
    expect(envFile.read(original, 'B')).toBe('real');
    const out = envFile.edit(original, [{ key: 'B', value: 'new' }]);
    expect(out).toBe('CERT="line one\r\nB=not-a-key\r\nend"\r\nB=new\r\n');
    const cert = envFile.edit(original, [{ key: 'CERT', value: 'a\nb' }]);
    expect(cert).toBe('CERT="a\r\nb"\r\nB=real\r\n');
    expect(envFile.read(cert, 'CERT')).toBe('a\nb');
  });

  it('a value with a quote a single-quoted block cannot hold is written double-quoted', () => {
    const out = envFile.edit("K='a\nb'\n", [{ key: 'K', value: "it's\nhere" }]);
    expect(envFile.read(out, 'K')).toBe("it's\nhere");
    expect(out).toBe('K="it\'s\\nhere"\n');
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

describe('json: only the assigned value\'s bytes change', () => {
  it('keeps big integers, 1e400, duplicate keys and inline formatting', () => {
    const original = '{"id": 1234567890123456789, "limit": 1e400, "tag": "a", "tag": "b",\n  "db": {"user": "app", "password": "old", "port": 5432}, "list": [1,2,  3]}\n';
    const out = jsonFile.edit(original, [{ key: 'db.password', value: 'n3w' }]);
    expect(out).toBe(original.replace('"old"', '"n3w"'));
  });

  it('sets every occurrence of a duplicated key: no reader keeps the old value', () => {
    const original = '{\n  "password": "old1",\n  "password": "old2"\n}\n';
    expect(jsonFile.edit(original, [{ key: 'password', value: 'new' }])).toBe('{\n  "password": "new",\n  "password": "new"\n}\n');
  });

  it('adds a missing key to the nearest existing object, in its own style', () => {
    const pretty = '{\n    "name": "api",\n    "db": {\n        "user": "app"\n    },\n    "n": 1e400\n}\n';
    expect(jsonFile.edit(pretty, [{ key: 'db.password', value: 'x' }])).toBe(pretty.replace('"user": "app"', '"user": "app",\n        "password": "x"'));
    expect(jsonFile.edit(pretty, [{ key: 'cache.auth.token', value: 'x' }]))
      .toBe(pretty.replace('"n": 1e400', '"n": 1e400,\n    "cache": {\n        "auth": {\n            "token": "x"\n        }\n    }'));
    const inline = '{"a":1,"b":{"c":2}}';
    expect(jsonFile.edit(inline, [{ key: 'b.d', value: 'x' }])).toBe('{"a":1,"b":{"c":2,"d":"x"}}');
    expect(jsonFile.edit('{"a": 1, "b": {}}', [{ key: 'b.d.e', value: 'x' }])).toBe('{"a": 1, "b": {"d": {"e": "x"}}}');
    expect(jsonFile.edit('', [{ key: 'a.b', value: 'x' }])).toBe('{\n  "a": {\n    "b": "x"\n  }\n}\n');
    // Two new keys under one new object make one object, not a duplicate.
    expect(jsonFile.edit('{}', [{ key: 'a.b', value: '1' }, { key: 'a.c', value: '2' }])).toBe('{\n  "a": {\n    "b": "1",\n    "c": "2"\n  }\n}');
  });

  it('refuses a path through something that is not an object, and a document that is not one', () => {
    expect(() => jsonFile.edit('{"a": [1]}', [{ key: 'a.b', value: 'x' }])).toThrow(/a\.b: a is not an object/);
    expect(() => jsonFile.edit('[1]', [{ key: 'a', value: 'x' }])).toThrow(/not an object/);
  });
});

describe('yaml: only the assigned value\'s bytes change', () => {
  const original = '# app\nserver:\n  mode: 0755\n  port: 8000 # public\n  name: "api"\ndatabase:\n  user: app\n  flags: {a: 1}\n# end\n';

  it('adds a missing key at its mapping\'s indentation, leaving 0755, quotes and comments alone', () => {
    expect(yamlFile.edit(original, [{ key: 'database.password', value: 's3cret' }])).toBe(original.replace('  flags: {a: 1}\n', '  flags: {a: 1}\n  password: s3cret\n'));
    expect(yamlFile.edit(original, [{ key: 'cache.auth.token', value: 'x' }])).toBe(original.replace('# end\n', 'cache:\n  auth:\n    token: x\n# end\n'));
    expect(yamlFile.edit(original, [{ key: 'database.flags.b', value: 'x' }])).toBe(original.replace('{a: 1}', '{a: 1, b: x}'));
    expect(yamlFile.edit('a:\n  b: 1', [{ key: 'a.c', value: 'x' }])).toBe('a:\n  b: 1\n  c: x');
    expect(yamlFile.edit('a:\nz: 1\n', [{ key: 'a.b', value: 'x' }])).toBe('a:\n  b: x\nz: 1\n');
    expect(yamlFile.edit('', [{ key: 'a', value: 'x' }])).toBe('a: x\n');
  });

  it('replaces an empty value, an alias and a literal block (kept a block) without touching the rest', () => {
    expect(yamlFile.edit('a:\nb: 0755\n', [{ key: 'a', value: 'x' }])).toBe('a: x\nb: 0755\n');
    expect(yamlFile.edit('x: &k old\ny: *k\n', [{ key: 'y', value: 'new' }])).toBe('x: &k old\ny: new\n');
    const pem = 'tls:\n  key: |\n    -----BEGIN KEY-----\n    OLDBODY\n    -----END KEY-----\n  mode: 0600\n';
    const out = yamlFile.edit(pem, [{ key: 'tls.key', value: '-----BEGIN KEY-----\nNEWBODY\n-----END KEY-----\n' }]);
    expect(out).toBe(pem.replace('OLDBODY', 'NEWBODY'));
    expect(yamlFile.edit(pem, [{ key: 'tls.key', value: 'flat' }])).toBe('tls:\n  key: flat\n  mode: 0600\n');
  });

  it('quotes a value YAML would read as something else', () => {
    for (const v of ['.inf', '.5', 'true', '0755', '~', '1e3', 'a: b', '#x']) {
      const out = yamlFile.edit('k: old\n', [{ key: 'k', value: v }]);
      expect(yamlFile.read(out, 'k'), v).toBe(v);
    }
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
  it('keeps the mode, takes a sealed 0600 backup of the original, and leaves a file it cannot parse untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, '{\n  "password": "old"\n}\n');
    chmodSync(path, 0o640);
    const backups = backupsIn(join(dir, 'backups'));
    const change = await assignInFile(jsonFile, path, [{ key: 'password', value: 'new' }], { backups });
    expect(change.changed).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readFileSync(change.backup!, 'latin1')).not.toContain('old');
    expect(backups.read(path, backups.list()[0]!.copies[0]!)).toBe('{\n  "password": "old"\n}\n');
    expect(statSync(change.backup!).mode & 0o777).toBe(0o600);
    expect((await assignInFile(jsonFile, path, [{ key: 'password', value: 'new' }], { backups })).changed).toBe(false);

    writeFileSync(path, '{ not json');
    await expect(assignInFile(jsonFile, path, [{ key: 'password', value: 'x' }], { backups })).rejects.toThrow();
    expect(readFileSync(path, 'utf8')).toBe('{ not json');
  });

  it('concurrent deliveries into one file (several secrets of one run) lose none of each other\'s keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-'));
    const path = join(dir, '.env');
    writeFileSync(path, '# shared\n');
    await Promise.all(Array.from({ length: 20 }, (_, i) => assignInFile(envFile, path, [{ key: `K${i}`, value: `v${i}` }], { backups: backupsIn(join(dir, 'backups')) })));
    const text = readFileSync(path, 'utf8');
    for (let i = 0; i < 20; i++) expect(envFile.read(text, `K${i}`), `K${i}`).toBe(`v${i}`);
  });

  it('keeps every backup when changes land within the same millisecond: the first holds the original', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-'));
    const path = join(dir, '.env');
    writeFileSync(path, 'A=original\n');
    const backups = backupsIn(join(dir, 'backups'), () => new Date('2026-11-23T10:00:00.000Z'));
    const first = await assignInFile(envFile, path, [{ key: 'A', value: 'one' }], { backups });
    const second = await assignInFile(envFile, path, [{ key: 'A', value: 'two' }], { backups });
    expect(second.backup).not.toBe(first.backup);
    const [newest, oldest] = backups.list()[0]!.copies;
    expect([newest!.path, oldest!.path]).toEqual([second.backup, first.backup]);
    expect(backups.read(path, oldest!)).toBe('A=original\n');
    expect(backups.read(path, newest!)).toBe('A=one\n');
    expect(statSync(second.backup!).mode & 0o777).toBe(0o600);
  });

  it('a writer killed at random moments leaves the old file or the new one, never a mix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-cfg-crash-'));
    const bundle = join(dir, 'writer.mjs');
    buildSync({
      stdin: {
        contents: `import { assignInFile } from './src/delivery/files/file.ts'; import { envFile } from './src/delivery/files/env-file.ts';
          const [path, value] = process.argv.slice(2);
          for (;;) await assignInFile(envFile, path, [{ key: 'SECRET', value: value + Math.random() }]);`,
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
