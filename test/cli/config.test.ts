/** Bad configuration and bad flags: exit 2, the file and line named, nothing created or changed. */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

const BAD: [string, string, RegExp][] = [
  ['a YAML syntax error', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n   length: [32\n', /rotor\.yaml:\d+.*YAML/],
  ['an unknown type', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n  - id: app/b\n    type: randum\n', /rotor\.yaml:6:.*unknown type "randum"; known types: random/],
  ['an unknown store reference', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n    store: nowhere\n', /rotor\.yaml:5:.*unknown store "nowhere"/],
  ['an unknown `after` reference', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n    after: [app/zzz]\n', /rotor\.yaml:5:.*unknown secret "app\/zzz"/],
  ['an unknown target reference', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n    target: db\n', /rotor\.yaml:5:.*(has no target|unknown target)/],
  ['a bad duration', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n    interval: 90days\n', /rotor\.yaml:5:.*not a duration/],
  ['a duplicate id', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n  - id: app/a\n    type: random\n', /rotor\.yaml:5:.*duplicate id "app\/a"/],
  ['an unknown field of a type', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n    lenght: 32\n', /rotor\.yaml:3:.*unknown field "lenght"/],
  ['a value out of range', 'version: 1\nsecrets:\n  - id: app/a\n    type: random\n    length: 4\n', /rotor\.yaml:5:.*length/],
  ['a missing environment variable', 'version: 1\nstate: { driver: sqlite, path: "${ROTOR_TEST_UNSET_VAR}" }\n', /rotor\.yaml:2:.*ROTOR_TEST_UNSET_VAR is not set/],
  ['a cycle in `after`', 'version: 1\nsecrets:\n  - { id: a, type: random, after: [b] }\n  - { id: b, type: random, after: [a] }\n', /cycle: a → b → a/],
  ['a wrong version', 'version: 2\n', /rotor\.yaml:1:.*version: must be one of 1/],
];

describe.concurrent('bad configuration', () => {
  it.each(BAD)('%s: exit 2 with the line named, nothing touched', async (_name, yaml, message) => {
    const sb = new Sandbox(yaml);
    sandboxes.push(sb);
    for (const args of [['init'], ['rotate', '--all'], ['status'], ['plan']]) {
      const r = await sb.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(sb.path('.rotor'))).toBe(false);
  });

  it('a good config after a bad one changes nothing that existed', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: app/a, type: random }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all']);
    const before = sb.files('.rotor');
    sb.write('rotor.yaml', 'version: 1\nsecrets:\n  - { id: app/a, type: random, grace: soon }\n');
    const r = await sb.run(['rotate', '--all']);
    expect(r.code).toBe(2);
    const after = sb.files('.rotor');
    for (const [p, b] of before) expect(after.get(p)?.equals(b), p).toBe(true);
  });

  it('--json errors carry the problems as data', async () => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: app/a, type: nope }\n');
    sandboxes.push(sb);
    const r = await sb.run(['status', '--json']);
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout);
    expect(body.problems[0]).toMatchObject({ line: 3, path: 'secrets.0.type' });
  });
});

describe.concurrent('deliveries checked against the value they take', () => {
  const CONFIG = `version: 1
stores:
  app-env: { type: env-file, path: app.env }
consumers:
  api:
    deliver:
      - { store: app-env, key: DATABASE_PASSWORD, field: pasword }
      - { template: app.conf.tmpl, to: app.conf }
  web:
    deliver:
      - { store: app-env, key: JWT_KID, field: keys.0.kid }
      - { store: app-env, key: JWT_SECRET, field: keys.0.k.x }
      - { template: missing.tmpl, to: web.conf }
targets:
  db: { type: postgres, url: "postgres://admin:pw@127.0.0.1:1/postgres" }
secrets:
  - { id: database/primary, type: postgres-password, target: db, strategy: single, username: app, consumers: [api] }
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [web] }
`;

  it('a misspelt field, an unknown placeholder and a missing template: exit 2, each at its line, nothing touched', async () => {
    const sb = new Sandbox(CONFIG);
    sandboxes.push(sb);
    sb.write('app.env', 'DATABASE_PASSWORD=old\n');
    sb.write('app.conf.tmpl', 'user={{ username }}\npassword={{ password }}\nold={{ previous.pasword }}\n');
    const before = sb.files();
    for (const args of [['init'], ['rotate', '--all'], ['status'], ['plan']]) {
      const r = await sb.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/rotor\.yaml:7:\d+: consumers\.api\.deliver\.0\.field: database\/primary is a postgres-password: no field "pasword" \(did you mean "password"\?\)/);
      expect(r.stderr).toMatch(/rotor\.yaml:8:\d+: consumers\.api\.deliver\.1\.template: app\.conf\.tmpl:3: \{\{ previous\.pasword \}\}: .*no field "pasword"/);
      expect(r.stderr).toMatch(/rotor\.yaml:12:\d+: consumers\.web\.deliver\.1\.field: auth\/jwt is a jwt-keyset: "keys\.0\.k" is a string: it has no fields/);
      expect(r.stderr).toMatch(/rotor\.yaml:13:\d+: consumers\.web\.deliver\.2\.template: cannot read template missing\.tmpl: no such file/);
      expect(r.stderr).not.toMatch(/JWT_KID|keys\.0\.kid/);
    }
    expect(existsSync(sb.path('.rotor'))).toBe(false);
    const after = sb.files();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [p, b] of before) expect(after.get(p)?.equals(b), p).toBe(true);
  });
});

describe.concurrent('bad flags', () => {
  it.each([
    [['rotate'], /name the secrets to rotate/],
    [['rotate', '--all', '--bogus'], /Unknown option '--bogus'/],
    [['rotate', 'app/nope'], /unknown secret: app\/nope/],
    [['rotate', '--all', '--concurrency', '0'], /--concurrency must be/],
    [['rotate', '--all', '--reason', 'two\nlines'], /--reason must be one line/],
    [['get', 'app/a', '--stage', 'future'], /--stage must be/],
    [['emergency', '--scope', 'critical'], /needs --incident and --reason/],
    [['audit', 'export', '--since', 'whenever'], /since "whenever" is neither a time/],
    [['audit', 'verify', '--since', '24h'], /--since applies to `audit export`/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('rotor %j exits 2', async (args, message) => {
    const sb = new Sandbox('version: 1\nsecrets:\n  - { id: app/a, type: random }\n');
    sandboxes.push(sb);
    await sb.ok(['init']);
    const before = sb.files('.rotor');
    const r = await sb.run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    const after = sb.files('.rotor');
    for (const [p, b] of before) expect(after.get(p)?.equals(b), p).toBe(true);
  });
});

describe('every problem at once', () => {
  it('reference errors are reported together with schema errors', async () => {
    const sb = new Sandbox(`version: 1
consumers:
  api: { deliver: [{ store: nowhere, key: K }] }
secrets:
  - { id: a, type: random, length: 3 }
  - { id: b, type: random, consumers: [ghost], after: [nobody] }
`);
    sandboxes.push(sb);
    const r = await sb.run(['plan', '--offline']);
    expect(r.code).toBe(2);
    // The schema's problem (length) and the references (store, consumer, after) in one run.
    expect(r.stderr).toMatch(/rotor\.yaml:5:.*length/);
    expect(r.stderr).toMatch(/rotor\.yaml:3:.*unknown store "nowhere"/);
    expect(r.stderr).toMatch(/rotor\.yaml:6:.*unknown consumer "ghost"/);
    expect(r.stderr).toMatch(/rotor\.yaml:6:.*unknown secret "nobody"/);
  });
});
