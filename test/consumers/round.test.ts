/**
 * A reload round on its own, with real reload commands, files and an HTTP health server:
 * - `stage: previous` and `{{ previous.… }}` deliver the previous value while a member
 *   carries one, and an empty string when it carries none;
 * - an HS256 key set reaches the `{"current", "previous"}` shape an app reads;
 * - retire's re-delivery (onlyIfChanged) reloads a consumer whose files changed, and a
 *   consumer with no deliveries of its own that is fed through an earlier one's files;
 *   its health check decides, and a failure fails the round.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { RotorConfig } from '../../src/config/schema.js';
import { deliversPrevious } from '../../src/consumers/actions.js';
import { consumerOrder } from '../../src/consumers/order.js';
import { ReloadRound, type RoundMember } from '../../src/consumers/round.js';
import { newSigningKey } from '../../src/rotators/jwt-keyset/keys.js';
import type { SecretValue } from '../../src/rotators/types.js';
import { freePort } from '../helpers/servers/common.js';

const dirs: string[] = [];
let server: Server;
let port: number;
/** Answers 500 while `unhealthy` is set. */
let unhealthy = false;
const healthHits: string[] = [];

beforeAll(async () => {
  port = await freePort();
  server = createServer((req, res) => {
    healthHits.push(req.url!);
    res.writeHead(unhealthy ? 500 : 200).end(unhealthy ? 'broken' : 'ok');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const RELOAD = `import { appendFileSync } from 'node:fs';
process.stdin.resume();
process.stdin.on('end', () => appendFileSync('reloads.log', process.argv[2] + ' ' + process.env.ROTOR_SECRETS + '\\n'));
`;
const reload = (name: string) => `reload: [{ command: ["${process.execPath}", "reload.mjs", "${name}"], timeout: 5s }]`;
const health = (name: string) => `health: [{ http: "http://127.0.0.1:${PORT}/${name}", timeout: 2s, retries: 0 }]`;
const PORT = '__PORT__';

/** A directory with rotor.yaml (loaded through the real config loader), files and the reload script. */
function setup(yaml: string, files: Record<string, string> = {}): { dir: string; config: RotorConfig; order: string[]; reloads: () => string[]; read: (f: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-round-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'reload.mjs'), RELOAD);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const { config } = parseConfig(yaml.replaceAll(PORT, String(port)), join(dir, 'rotor.yaml'), {});
  const found = consumerOrder(Object.keys(config.consumers), config.secrets);
  if (!found.ok) throw new Error('no consumer order');
  return {
    dir, config, order: found.order,
    reloads: () => (existsSync(join(dir, 'reloads.log')) ? readFileSync(join(dir, 'reloads.log'), 'utf8').trim().split('\n') : []),
    read: (f) => readFileSync(join(dir, f), 'utf8'),
  };
}

function run(s: { config: RotorConfig; order: string[] }, member: RoundMember, opts: { onlyIfChanged?: boolean } = {}): Promise<string> {
  return new ReloadRound(s.config, s.order, [member.secretId], opts).arrive(member);
}

const member = (secretId: string, consumers: string[], value: SecretValue, previous: SecretValue | null | undefined, version = 2): RoundMember =>
  ({ secretId, consumers, value, ...(previous === undefined ? {} : { previous }), version });

describe('stage: previous', () => {
  const yaml = `version: 1
stores:
  app-env: { type: env-file, path: app.env }
consumers:
  api:
    deliver:
      - { store: app-env, key: S2S_SECRET }
      - { store: app-env, key: S2S_SECRET_PREVIOUS, stage: previous }
      - { template: conf.tmpl, to: app.conf }
    ${reload('api')}
secrets:
  - { id: s2s, type: random, consumers: [api] }
`;
  const files = { 'app.env': 'S2S_SECRET=\nS2S_SECRET_PREVIOUS=\n', 'conf.tmpl': 'now={{ value }}\nwas={{ previous.value }}\n' };

  it('delivers the previous value while the member carries one, and an empty string when it does not', async () => {
    const s = setup(yaml, files);
    await run(s, member('s2s', ['api'], 'v2-secret-aaaaaaaaaaaaaaaa', 'v1-secret-bbbbbbbbbbbbbbbb'));
    expect(s.read('app.env')).toBe('S2S_SECRET=v2-secret-aaaaaaaaaaaaaaaa\nS2S_SECRET_PREVIOUS=v1-secret-bbbbbbbbbbbbbbbb\n');
    expect(s.read('app.conf')).toBe('now=v2-secret-aaaaaaaaaaaaaaaa\nwas=v1-secret-bbbbbbbbbbbbbbbb\n');

    // Retire's re-delivery: no previous any more; the files change, so the consumer reloads.
    await run(s, member('s2s', ['api'], 'v2-secret-aaaaaaaaaaaaaaaa', null), { onlyIfChanged: true });
    expect(s.read('app.env')).toBe('S2S_SECRET=v2-secret-aaaaaaaaaaaaaaaa\nS2S_SECRET_PREVIOUS=""\n');
    expect(s.read('app.conf')).toBe('now=v2-secret-aaaaaaaaaaaaaaaa\nwas=\n');
    expect(s.reloads()).toEqual(['api s2s@2', 'api s2s@2']);

    // A caller that does not pass `previous` (the engine before it does): empty, never a stale value.
    await run(s, member('s2s', ['api'], 'v3-secret-cccccccccccccccc', undefined, 3));
    expect(s.read('app.env')).toBe('S2S_SECRET=v3-secret-cccccccccccccccc\nS2S_SECRET_PREVIOUS=""\n');
  });

  it('deliversPrevious tells the engine which secrets need a re-delivery at retire', () => {
    const s = setup(`version: 1
stores:
  app-env: { type: env-file, path: app.env }
consumers:
  api:
    deliver:
      - { secret: a, store: app-env, key: A }
      - { secret: b, store: app-env, key: B_PREVIOUS, stage: previous }
      - { secret: c, template: conf.tmpl, to: c.conf }
      - { secret: d, template: plain.tmpl, to: d.conf }
secrets:
  - { id: a, type: random, consumers: [api] }
  - { id: b, type: random, consumers: [api] }
  - { id: c, type: random, consumers: [api] }
  - { id: d, type: random, consumers: [api] }
`, { ...files, 'plain.tmpl': 'k={{ value }}\n' });
    expect(['a', 'b', 'c', 'd'].map((id) => deliversPrevious(s.config, id))).toEqual([false, true, true, false]);
  });
});

describe('an HS256 key set in the shape the app reads', () => {
  it('delivers {"current", "previous"} secrets by view, dot path and template; the app verifies with them', async () => {
    const [k1, k2] = [await newSigningKey('HS256'), await newSigningKey('HS256')];
    const v1 = { alg: 'HS256', kid: k1.kid, keys: [k1] };
    const v2 = { alg: 'HS256', kid: k2.kid, keys: [k2, k1] };
    const s = setup(`version: 1
stores:
  app: { type: json, path: app.json }
  env: { type: env-file, path: app.env }
consumers:
  api:
    deliver:
      - { store: app, key: jwt.current, field: secret }
      - { store: app, key: jwt.previous, field: secret, stage: previous }
      - { store: env, key: JWT_SECRET, field: keys.0.k }
      - { store: env, key: JWT_PREVIOUS_SECRET, field: secret, stage: previous }
      - { template: jwt.tmpl, to: jwt.json }
    ${reload('api')}
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [api] }
`, {
      'app.json': '{ "name": "api", "jwt": { "current": "", "previous": "" } }\n',
      'app.env': 'JWT_SECRET=\nJWT_PREVIOUS_SECRET=\n',
      'jwt.tmpl': '{ "current": "{{ secret }}", "previous": "{{ previous.secret }}", "kid": "{{ kid }}" }\n',
    });

    // In grace after the second rotation: the app keeps both secrets.
    await run(s, member('auth/jwt', ['api'], v2, v1));
    const app = JSON.parse(s.read('app.json')) as { name: string; jwt: { current: string; previous: string } };
    expect(app).toEqual({ name: 'api', jwt: { current: k2.k, previous: k1.k } });
    expect(s.read('app.env')).toBe(`JWT_SECRET=${k2.k}\nJWT_PREVIOUS_SECRET=${k1.k}\n`);
    expect(JSON.parse(s.read('jwt.json'))).toEqual({ current: k2.k, previous: k1.k, kid: k2.kid });

    // The app decodes each secret and accepts tokens signed with either key.
    for (const key of [k1, k2]) {
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(base64url.decode(key.k as string));
      const accepted = await Promise.any([app.jwt.current, app.jwt.previous].map((sec) => jwtVerify(token, base64url.decode(sec))));
      expect(accepted.payload.sub).toBe('x');
    }

    // Retire: v2 delivered without k1 (what the engine's forConsumers gives) and no previous.
    await run(s, member('auth/jwt', ['api'], { ...v2, keys: [k2] }, null), { onlyIfChanged: true });
    expect(JSON.parse(s.read('app.json'))).toEqual({ name: 'api', jwt: { current: k2.k, previous: '' } });
    expect(s.read('app.env')).toBe(`JWT_SECRET=${k2.k}\nJWT_PREVIOUS_SECRET=""\n`);
    expect(JSON.parse(s.read('jwt.json'))).toEqual({ current: k2.k, previous: '', kid: k2.kid });
    expect(s.reloads()).toHaveLength(2);
  });

  it('refuses to deliver a current value that lacks the field, rather than writing it empty', async () => {
    const rs = await newSigningKey('RS256');
    const s = setup(`version: 1
stores:
  env: { type: env-file, path: app.env }
consumers:
  api:
    deliver: [{ store: env, key: JWT_SECRET, field: keys.0.k }]
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [api] }
`, { 'app.env': 'JWT_SECRET=before\n' });
    await expect(run(s, member('auth/jwt', ['api'], { alg: 'RS256', kid: rs.kid, keys: [rs] }, null))).rejects.toThrow(/consumer api: the value has no field "keys\.0\.k"/);
    expect(s.read('app.env')).toBe('JWT_SECRET=before\n');
  });
});

describe('retire reaches every consumer that holds the retiring value', () => {
  // `secret-sync` is an ExternalSecret-like file the cluster syncs; `deployment` reads it
  // and has no deliveries of its own: restarting it is what makes the new file take effect.
  const yaml = `version: 1
stores:
  synced: { type: json, path: external-secret.json }
consumers:
  secret-sync:
    deliver: [{ store: synced, key: data.jwks }]
    ${reload('secret-sync')}
  deployment:
    ${reload('deployment')}
    ${health('deployment')}
  bystander:
    ${reload('bystander')}
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, consumers: [secret-sync, deployment] }
  - { id: other, type: random, consumers: [bystander] }
`;
  const files = { 'external-secret.json': '{ "data": { "jwks": "" } }\n' };

  async function inGrace() {
    const [k1, k2] = [await newSigningKey('HS256'), await newSigningKey('HS256')];
    const s = setup(yaml, files);
    const v2 = { alg: 'HS256', kid: k2.kid, keys: [k2, k1] };
    await run(s, member('auth/jwt', ['secret-sync', 'deployment'], v2, null));
    expect(s.reloads()).toEqual(['secret-sync auth/jwt@2', 'deployment auth/jwt@2']);
    return { s, retired: { ...v2, keys: [k2] }, k1 };
  }

  it('reloads a reload-only consumer fed through an earlier consumer\'s changed file, and checks its health', async () => {
    const { s, retired, k1 } = await inGrace();
    const hits = healthHits.length;
    const detail = await run(s, member('auth/jwt', ['secret-sync', 'deployment'], retired, null), { onlyIfChanged: true });
    expect(s.read('external-secret.json')).not.toContain(k1.k as string);
    expect(s.reloads().slice(2)).toEqual(['secret-sync auth/jwt@2', 'deployment auth/jwt@2']);
    expect(healthHits.slice(hits)).toEqual(['/deployment']);
    expect(detail).toMatch(/deployment: ran `.*reload\.mjs deployment`/);
  });

  it('reloads nobody when the re-delivery changes no file', async () => {
    const { s, retired } = await inGrace();
    await run(s, member('auth/jwt', ['secret-sync', 'deployment'], retired, null), { onlyIfChanged: true });
    const before = s.reloads().length;
    await run(s, member('auth/jwt', ['secret-sync', 'deployment'], retired, null), { onlyIfChanged: true });
    expect(s.reloads()).toHaveLength(before);
  });

  it('fails the round when the reloaded consumer is unhealthy', async () => {
    const { s, retired } = await inGrace();
    unhealthy = true;
    try {
      await expect(run(s, member('auth/jwt', ['secret-sync', 'deployment'], retired, null), { onlyIfChanged: true }))
        .rejects.toThrow(/consumer deployment: health check failed after 1 attempt: .*answered 500/);
    } finally {
      unhealthy = false;
    }
    expect(s.reloads().at(-1)).toBe('deployment auth/jwt@2');
  });
});

describe('a template changed after the config was loaded', () => {
  it('is checked again when it is rendered: an unknown placeholder fails the delivery, the file is untouched', async () => {
    const s = setup(`version: 1
consumers:
  api:
    deliver: [{ template: conf.tmpl, to: app.conf }]
secrets:
  - { id: db, type: random, consumers: [api] }
`, { 'conf.tmpl': 'k={{ value }}\n', 'app.conf': 'before\n' });
    writeFileSync(join(s.dir, 'conf.tmpl'), 'k={{ password }}\n');
    await expect(run(s, member('db', ['api'], 'a-value-aaaaaaaaaaaaaaaa', null))).rejects.toThrow(/consumer api: the value has no field "password"/);
    expect(s.read('app.conf')).toBe('before\n');
  });
});
