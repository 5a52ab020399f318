/**
 * The leak canary: after rotations, rollbacks, an emergency and a failure, no value appears
 * anywhere but in `rotor get`'s output — not in any file under .rotor/ (plaintext or
 * base64), not in any other command's output, error, audit event or report.
 */
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const CONFIG = `version: 1
secrets:
  - { id: app/a, type: random, length: 40, encoding: alnum, priority: critical }
  - { id: app/b, type: random, length: 48, encoding: base64url, prefix: sk_live_, grace: 15m }
  - { id: app/c, type: random, length: 64, encoding: hex, priority: high }
`;

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

it('values appear only in `rotor get`', async () => {
  const sb = new Sandbox(CONFIG);
  sandboxes.push(sb);
  const outputs: string[] = [];
  const run = async (args: string[], expected = 0) => {
    const r = await sb.ok(args, {}, expected);
    outputs.push(r.stdout, r.stderr);
  };
  await run(['init']);
  await run(['rotate', '--all', '--no-grace', '--reason', 'initial']);
  await run(['rotate', '--all', '--json']);
  await run(['rollback', 'app/b']);
  await run(['rotate', 'app/a', 'app/c']);
  await run(['retire', '--force', '--json']);
  await run(['emergency', '--scope', 'high', '--incident', 'INC-42', '--reason', 'canary']);
  for (const cmd of [['status'], ['status', '--json'], ['plan'], ['plan', '--json'], ['audit', 'export'], ['audit', 'verify'], ['resume']]) await run(cmd);
  for (const id of ['app/a', 'app/b', 'app/c']) {
    await run(['history', id]);
    await run(['history', id, '--json']);
  }

  // Every version of every secret, read the only way values can be read.
  const values: string[] = [];
  for (const id of ['app/a', 'app/b', 'app/c']) {
    const h = JSON.parse((await sb.ok(['history', id, '--json'])).stdout) as { versions: { version: number }[] };
    for (const v of h.versions) values.push((await sb.ok(['get', id, '--version', String(v.version)])).stdout.trim());
  }
  expect(values.length).toBeGreaterThanOrEqual(9);

  // A failing command: damage the vault files of one secret and capture the error output too.
  const dir = sb.path('.rotor', 'vault', encodeURIComponent('app/a'));
  for (const name of readdirSync(dir)) {
    const bytes = readFileSync(`${dir}/${name}`);
    bytes[30]! ^= 0xff;
    writeFileSync(`${dir}/${name}`, bytes);
  }
  const failed = await sb.run(['rotate', '--all', '--no-grace']);
  expect(failed.code).toBe(3);
  outputs.push(failed.stdout, failed.stderr);

  const haystacks = [
    ...outputs.map((o, i) => [`output #${i}`, o] as const),
    ...[...sb.files('.rotor')].map(([p, b]) => [p, b.toString('latin1')] as const),
  ];
  for (const value of values) {
    const secretPart = value.replace(/^sk_live_/, '');
    const forms = [secretPart, Buffer.from(secretPart).toString('base64'), Buffer.from(secretPart).toString('hex')];
    for (const [where, text] of haystacks) {
      for (const form of forms) expect(text.includes(form), `a value leaked into ${where}`).toBe(false);
    }
  }
});

it('key material of jwt-keyset and keyring appears only in `rotor get`, never in the published JWKS', async () => {
  const sb = new Sandbox(`version: 1
secrets:
  - { id: auth/es, type: jwt-keyset, algorithm: ES256, jwksFile: public/jwks.json, grace: 1h, priority: critical }
  - { id: auth/hs, type: jwt-keyset, algorithm: HS256, keysetFile: private/hs.json, grace: 1h }
  - { id: data/ring, type: keyring, grace: 1h, priority: critical }
`);
  sandboxes.push(sb);
  const outputs: string[] = [];
  const run = async (args: string[]) => {
    const r = await sb.ok(args);
    outputs.push(r.stdout, r.stderr);
  };
  await run(['init']);
  await run(['rotate', '--all']);
  await run(['rotate', '--all', '--json']);
  await run(['retire', '--force']);
  await run(['emergency', '--scope', 'critical', '--incident', 'INC-9', '--reason', 'canary']);
  for (const cmd of [['status', '--json'], ['plan'], ['audit', 'export'], ['history', 'auth/es', '--json'], ['history', 'data/ring']]) await run(cmd);

  // The secret members of every key of every version: EC private scalars, HMAC secrets, AES keys.
  const secrets: string[] = [];
  for (const id of ['auth/es', 'auth/hs', 'data/ring']) {
    const h = JSON.parse((await sb.ok(['history', id, '--json'])).stdout) as { versions: { version: number }[] };
    for (const v of h.versions) {
      const value = JSON.parse((await sb.ok(['get', id, '--version', String(v.version)])).stdout) as { keys: { d?: string; k?: string; key?: string }[] };
      for (const k of value.keys) for (const s of [k.d, k.k, k.key]) if (s) secrets.push(s);
    }
  }
  expect(secrets.length).toBeGreaterThanOrEqual(9);
  const haystacks = [
    ...outputs.map((o, i) => [`output #${i}`, o] as const),
    ...[...sb.files('.rotor')].map(([p, b]) => [p, b.toString('latin1')] as const),
    ['public/jwks.json', readFileSync(sb.path('public/jwks.json'), 'utf8')] as const,
  ];
  for (const s of secrets) for (const [where, text] of haystacks) expect(text.includes(s), `key material leaked into ${where}`).toBe(false);
});

it('consumers: no value in delivery backups, reload output, --json errors, history or audit; only the consumer file holds the current value', async () => {
  const sb = new Sandbox(`version: 1
stores:
  env: { type: env-file, path: ./app.env }
consumers:
  app:
    deliver: [{ store: env, key: APP_KEY }, { store: env, key: APP_KEY_PREVIOUS, stage: previous }]
    # Both echo what they were given; the health check fails whenever the flag file exists.
    reload: [{ command: [sh, -c, 'v=$(cat); echo "got $v"; echo "bad $v" >&2'] }]
    health: [{ command: [sh, -c, 'v=$(cat); echo "health $v" >&2; test ! -f fail'], retries: 0 }]
secrets:
  - { id: app/key, type: random, length: 40, encoding: alnum, grace: 1h, consumers: [app] }
`);
  sandboxes.push(sb);
  const outputs: string[] = [];
  const run = async (args: string[], expected = 0) => {
    const r = await sb.ok(args, {}, expected);
    outputs.push(r.stdout, r.stderr);
  };
  await run(['init']);
  await run(['rotate', 'app/key']);
  await run(['rotate', 'app/key', '--json']);
  sb.write('fail', '');
  await run(['rotate', 'app/key', '--json'], 1);
  await run(['rotate', 'app/key'], 1);
  (await import('node:fs')).rmSync(sb.path('fail'));
  await run(['rotate', 'app/key']);
  await run(['retire', '--force', '--json']);
  for (const cmd of [['status', '--json'], ['history', 'app/key', '--json'], ['history', 'app/key'], ['audit', 'export']]) await run(cmd);

  const values: string[] = [];
  const h = JSON.parse((await sb.ok(['history', 'app/key', '--json'])).stdout) as { versions: { version: number }[] };
  for (const v of h.versions) values.push((await sb.ok(['get', 'app/key', '--version', String(v.version)])).stdout.trim());
  expect(values.length).toBeGreaterThanOrEqual(5);
  const current = (await sb.ok(['get', 'app/key'])).stdout.trim();

  const haystacks = [
    ...outputs.map((o, i) => [`output #${i}`, o] as const),
    ...[...sb.files('.rotor')].map(([p, b]) => [p, b.toString('latin1')] as const),
  ];
  for (const value of values) {
    for (const form of [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')]) {
      for (const [where, text] of haystacks) expect(text.includes(form), `a value leaked into ${where}`).toBe(false);
    }
  }
  // The consumer file holds the current value and no retired one.
  const env = readFileSync(sb.path('app.env'), 'utf8');
  expect(env).toContain(current);
  for (const v of values.filter((x) => x !== current)) expect(env.includes(v)).toBe(false);
});
