/**
 * Config load checks what each delivery takes against the value shape of its secret's
 * type: a `field`, every template placeholder (templates are read at load), `stage`. Each
 * problem is reported with its line in rotor.yaml, all at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, type ConfigProblem } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'rotor-config-deliveries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (yaml: string) => parseConfig(yaml, join(dir, 'rotor.yaml'), {});
const problems = (yaml: string): ConfigProblem[] => {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

const HEAD = `version: 1
targets:
  pg: { type: postgres, url: "postgres://a:b@h/db" }
stores:
  env: { type: env-file, path: app.env }
`;
const SECRETS = `secrets:
  - { id: db/app, type: postgres-password, target: pg, strategy: single, username: app, consumers: [api] }
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [api, web] }
  - { id: auth/rs, type: jwt-keyset, algorithm: RS256, consumers: [signer] }
  - { id: app/key, type: random, consumers: [web] }
`;

describe('delivery fields checked at load', () => {
  it('accepts fields, dot paths, views and stage: previous that the types have', () => {
    const { config, warnings } = load(`${HEAD}consumers:
  api:
    deliver:
      - { secret: db/app, store: env, key: DB_PASSWORD, field: password }
      - { secret: db/app, store: env, key: DB_PASSWORD_PREVIOUS, field: password, stage: previous }
      - { secret: auth/jwt, store: env, key: JWT_SECRET, field: secret }
      - { secret: auth/jwt, store: env, key: JWT_PREVIOUS_SECRET, field: secret, stage: previous }
      - { secret: auth/jwt, store: env, key: JWT_KID, field: keys.0.kid }
  web:
    deliver:
      - { secret: app/key, store: env, key: APP_KEY }
  signer:
    deliver: [{ store: env, key: RS_KID, field: kid }]
${SECRETS}`);
    expect(warnings).toEqual([]);
    expect(config.consumers.api!.deliver.map((d) => 'store' in d && d.stage)).toEqual(['current', 'previous', 'current', 'previous', 'current']);
  });

  it('refuses fields the value does not have, each at its line, with what it has instead', () => {
    const ps = problems(`${HEAD}consumers:
  api:
    deliver:
      - { secret: db/app, store: env, key: DB_PASSWORD, field: pasword }
      - { secret: auth/jwt, store: env, key: JWT_SECRET, field: keys.2.k }
      - { secret: auth/jwt, store: env, key: JWT_SECRET, field: secert, stage: previous }
  web:
    deliver:
      - { secret: app/key, store: env, key: APP_KEY, field: value }
  signer:
    deliver: [{ store: env, key: RS_SECRET, field: secret }]
${SECRETS}`);
    expect(ps.map((p) => [p.line, p.path])).toEqual([
      [9, 'consumers.api.deliver.0.field'],
      [10, 'consumers.api.deliver.1.field'],
      [11, 'consumers.api.deliver.2.field'],
      [14, 'consumers.web.deliver.0.field'],
      [16, 'consumers.signer.deliver.0.field'],
    ]);
    const [pg, jwt, view, random, rs] = ps.map((p) => p.message);
    expect(pg).toBe('db/app is a postgres-password: no field "pasword" (did you mean "password"?); the fields: username, password, host, port, database');
    expect(jwt).toMatch(/^auth\/jwt is a jwt-keyset: "keys" has at most 2 elements: indexes 0 to 1; or the view secret: the signing key's shared secret of an HS256 set/);
    expect(view).toMatch(/^auth\/jwt is a jwt-keyset: no field "secert" \(did you mean the view "secret": the signing key's shared secret/);
    expect(random).toBe('app/key is a random: the value is a string: it has no fields');
    expect(rs).toMatch(/^auth\/rs is a jwt-keyset: "secret" is the shared secret of an HS256 key set; this one is RS256/);
  });

  it('refuses a field path with bad syntax at the schema', () => {
    const ps = problems(`${HEAD}consumers:\n  api:\n    deliver: [{ store: env, key: K, field: "keys[0]" }]\nsecrets:\n  - { id: a, type: random, consumers: [api] }\n`);
    expect(ps).toMatchObject([{ line: 8, path: 'consumers.api.deliver.0.field' }]);
    expect(ps[0]!.message).toMatch(/names and list indexes separated by dots/);
  });

  it('refuses stage values other than current and previous, and stage on a template', () => {
    writeFileSync(join(dir, 'ok.tmpl'), '{{ value }}\n');
    const ps = problems(`${HEAD}consumers:\n  api:\n    deliver:\n      - { store: env, key: K, stage: pending }\n      - { template: ok.tmpl, to: out, stage: previous }\nsecrets:\n  - { id: a, type: random, consumers: [api] }\n`);
    expect(ps.map((p) => p.line)).toEqual([9, 10]);
  });

  it('warns that stage: previous of a secret without grace is always empty', () => {
    const { warnings } = load(`${HEAD}consumers:\n  api:\n    deliver: [{ store: env, key: K, stage: previous }]\nsecrets:\n  - { id: a, type: random, grace: "0", consumers: [api] }\n`);
    expect(warnings).toMatchObject([{ line: 8, path: 'consumers.api.deliver.0.stage' }]);
    expect(warnings[0]!.message).toMatch(/no grace period.*always empty/);
  });
});

describe('templates read and checked at load', () => {
  it('accepts placeholders of the current and previous value and leaves other braces alone', () => {
    writeFileSync(join(dir, 'jwt.tmpl'), '{ "current": "{{ secret }}", "previous": "{{previous.secret}}", "kid": "{{ keys.0.kid }}", "all": {{ value }}, "was": {{ previous.value }} }\n{{ .Values.other }}\n');
    const { config } = load(`${HEAD}consumers:\n  api:\n    deliver: [{ template: jwt.tmpl, to: out.json }]\nsecrets:\n  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [api] }\n`);
    expect(config.consumers.api!.deliver).toHaveLength(1);
  });

  it('refuses unknown placeholders with the template line, and a missing template', () => {
    writeFileSync(join(dir, 'db.tmpl'), 'user={{ username }}\npassword={{ pasword }}\nold={{ previous.passwd }}\nwhole={{ previous }}\n');
    writeFileSync(join(dir, 'jwt-bad.tmpl'), '{{ secret.k }}\n');
    const ps = problems(`${HEAD}consumers:
  api:
    deliver:
      - { template: db.tmpl, to: db.conf }
      - { secret: db/app, template: missing.tmpl, to: other.conf }
      - { secret: auth/jwt, template: jwt-bad.tmpl, to: jwt.json }
secrets:
  - { id: db/app, type: postgres-password, target: pg, strategy: single, username: app, consumers: [api] }
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [api] }
`.replace('{ template: db.tmpl', '{ secret: db/app, template: db.tmpl'));
    expect(ps.map((p) => [p.line, p.path])).toEqual([
      [9, 'consumers.api.deliver.0.template'],
      [9, 'consumers.api.deliver.0.template'],
      [9, 'consumers.api.deliver.0.template'],
      [10, 'consumers.api.deliver.1.template'],
      [11, 'consumers.api.deliver.2.template'],
    ]);
    expect(ps[0]!.message).toMatch(/^db\.tmpl:2: \{\{ pasword \}\}: db\/app is a postgres-password: no field "pasword" \(did you mean "password"\?\)/);
    expect(ps[1]!.message).toMatch(/^db\.tmpl:3: \{\{ previous\.passwd \}\}: .*no field "passwd" \(did you mean "password"\?\)/);
    expect(ps[2]!.message).toMatch(/^db\.tmpl:4: \{\{ previous \}\}: .*no field "previous".* \(the whole previous value is \{\{ previous\.value \}\}\)$/);
    expect(ps[3]!.message).toBe('cannot read template missing.tmpl: no such file');
    expect(ps[4]!.message).toBe('jwt-bad.tmpl:1: {{ secret.k }}: auth/jwt is a jwt-keyset: the view "secret" is a whole part: it has no fields');
  });

  it('a missing template of a consumer no secret uses is still an error', () => {
    const ps = problems(`${HEAD}consumers:\n  idle:\n    deliver: [{ template: nowhere.tmpl, to: x }]\n`);
    expect(ps).toMatchObject([{ line: 8, path: 'consumers.idle.deliver.0.template', message: 'cannot read template nowhere.tmpl: no such file' }]);
  });
});
