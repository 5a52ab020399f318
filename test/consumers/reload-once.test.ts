/**
 * One reload per consumer per run: secrets rotated together that share a consumer deliver
 * into it, and it is reloaded and health-checked once for all of them — in the one order
 * of the config, without deadlocks (concurrency 1, `after` chains, a member that never
 * reaches propagate). A failed shared reload or health check rolls back every secret
 * delivered in it, and their rollback reloads the consumer once again, not once each.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { freePort } from '../helpers/servers/common.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

/** Logs every reload: which consumer (argv), which secrets (env), what came on stdin. */
const RELOAD = `import { appendFileSync } from 'node:fs';
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  appendFileSync('reloads.log', JSON.stringify({ consumer: process.argv[2], secrets: process.env.ROTOR_SECRETS, id: process.env.ROTOR_SECRET_ID ?? null, stdin: input }) + '\\n');
});
`;

/** Healthy while every *_TOKEN in app.env is one of the values listed in good.json (absent: always). */
const CHECK = `import { existsSync, readFileSync } from 'node:fs';
if (existsSync('good.json')) {
  const good = JSON.parse(readFileSync('good.json', 'utf8'));
  for (const line of readFileSync('app.env', 'utf8').split('\\n')) {
    const m = /^[A-Z]_TOKEN=(.*)$/.exec(line);
    if (m && !good.includes(m[1])) process.exit(1);
  }
}
`;

interface Reload { consumer: string; secrets: string; id: string | null; stdin: string }

function sandbox(secrets: string, consumers = ''): Sandbox {
  const reload = (name: string) => `reload: [{ command: ["${process.execPath}", "reload.mjs", "${name}"], timeout: 5s }]`;
  const sb = new Sandbox(`version: 1
stores:
  app-env: { type: env-file, path: app.env }
consumers:
  web:
    ${reload('web')}
  api:
    deliver:
      - { secret: a, store: app-env, key: A_TOKEN }
      - { secret: b, store: app-env, key: B_TOKEN }
      - { secret: c, store: app-env, key: C_TOKEN }
    ${reload('api')}
    health: [{ command: ["${process.execPath}", "check.mjs"], timeout: 5s, retries: 0 }]
  worker:
    deliver: [{ store: app-env, key: W_TOKEN }]
    ${reload('worker')}
${consumers}secrets:
${secrets}`);
  sandboxes.push(sb);
  sb.write('app.env', '# app\nA_TOKEN=\nB_TOKEN=\nC_TOKEN=\nW_TOKEN=\n');
  sb.write('reload.mjs', RELOAD);
  sb.write('check.mjs', CHECK);
  return sb;
}

const reloads = (sb: Sandbox): Reload[] =>
  readFileSync(sb.path('reloads.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Reload);
const get = async (sb: Sandbox, id: string, version?: number) =>
  (await sb.ok(['get', id, ...(version ? ['--version', String(version)] : [])])).stdout.trim();
const sorted = (list: string) => list.split(',').sort().join(',');

const THREE = `  - { id: a, type: random, consumers: [api] }
  - { id: b, type: random, consumers: [api] }
  - { id: c, type: random, consumers: [api] }
  - { id: w, type: random, consumers: [worker] }
`;

describe('one reload per consumer per run', () => {
  it('reloads a consumer of three rotated secrets once, with every value on stdin, even at concurrency 1', async () => {
    const sb = sandbox(THREE);
    await sb.ok(['init']);
    expect((await sb.ok(['plan', 'a'])).stdout).toMatch(/propagate api: deliver A_TOKEN → app-env, 1 reload, 1 health check, shared with b, c when rotated in one run/);
    const r = await sb.ok(['rotate', '--all', '--concurrency', '1']);
    const log = reloads(sb);
    const api = log.filter((x) => x.consumer === 'api');
    expect(api).toHaveLength(1);
    expect(sorted(api[0]!.secrets)).toBe('a@1,b@1,c@1');
    expect(api[0]!.id).toBeNull(); // several secrets: no single ROTOR_SECRET_ID
    expect(JSON.parse(api[0]!.stdin)).toEqual({ a: await get(sb, 'a'), b: await get(sb, 'b'), c: await get(sb, 'c') });
    // A consumer of one secret is reloaded as before: its value alone on stdin.
    const worker = log.filter((x) => x.consumer === 'worker');
    expect(worker).toEqual([{ consumer: 'worker', secrets: 'w@1', id: 'w', stdin: await get(sb, 'w') }]);
    const env = readFileSync(sb.path('app.env'), 'utf8');
    for (const id of ['a', 'b', 'c', 'w']) expect(env).toContain(`${id.toUpperCase()}_TOKEN=${await get(sb, id)}\n`);
    expect(r.stdout).toMatch(/ok\s+a\s+v1/);

    // Each secret's step record says the reload was shared.
    const audit = (await sb.ok(['audit', 'export'])).stdout;
    expect(audit).toMatch(/api: ran `.*reload\.mjs api` \(once for a, b, c\)/);
  });

  it('keeps secrets linked by `after` in separate reloads, the later one after the first is healthy', async () => {
    const sb = sandbox(`  - { id: a, type: random, consumers: [api] }
  - { id: b, type: random, consumers: [api] }
  - { id: c, type: random, consumers: [api], after: [a] }
`);
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all']);
    const api = reloads(sb).filter((x) => x.consumer === 'api').map((x) => sorted(x.secrets));
    expect(api).toEqual(['a@1,b@1', 'c@1']);
  });

  it('walks shared consumers in the one order of the config', async () => {
    const sb = sandbox(`  - { id: a, type: random, consumers: [web, api] }
  - { id: b, type: random, consumers: [api] }
  - { id: w, type: random, consumers: [api, worker] }
`);
    // `api` now needs a delivery for w too.
    sb.write('rotor.yaml', readFileSync(sb.path('rotor.yaml'), 'utf8').replace('      - { secret: c, store: app-env, key: C_TOKEN }', '      - { secret: w, store: app-env, key: C_TOKEN }').replace('deliver: [{ store: app-env, key: W_TOKEN }]', 'deliver: [{ secret: w, store: app-env, key: W_TOKEN }]'));
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all']);
    expect(reloads(sb).map((x) => `${x.consumer}:${sorted(x.secrets)}`)).toEqual(['web:a@1', 'api:a@1,b@1,w@1', 'worker:w@1']);
  });

  it('a failed shared health check rolls every secret in it back, and their rollback reloads once', async () => {
    const sb = sandbox(THREE);
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all']);
    const v1 = { a: await get(sb, 'a'), b: await get(sb, 'b'), c: await get(sb, 'c') };
    sb.write('good.json', JSON.stringify(Object.values(v1))); // the service breaks on any new value
    const before = reloads(sb).length;

    const r = await sb.run(['rotate', '--all']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    for (const id of ['a', 'b', 'c']) {
      expect(r.stdout).toMatch(new RegExp(`ROLLED BACK\\s+${id}\\s+at propagate: consumer api: health check failed`));
      expect(await get(sb, id)).toBe(v1[id as 'a' | 'b' | 'c']);
      const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', id]);
      expect(h.versions.map((v) => `${v.version}:${v.stage}`)).toEqual(['1:current', '2:failed']);
    }
    expect(r.stdout).toMatch(/ok\s+w\s+v2/); // a secret of another consumer is not dragged along
    const api = reloads(sb).slice(before).filter((x) => x.consumer === 'api');
    expect(api.map((x) => sorted(x.secrets))).toEqual(['a@2,b@2,c@2', 'a@1,b@1,c@1']);
    expect(JSON.parse(api[1]!.stdin)).toEqual(v1);
    const env = readFileSync(sb.path('app.env'), 'utf8');
    for (const [id, v] of Object.entries(v1)) expect(env).toContain(`${id.toUpperCase()}_TOKEN=${v}\n`);
  });

  it.each(['propagate:before', 'propagate:after'])('a run killed at %s is resumed with one reload for all its secrets', async (boundary) => {
    // Only the shared consumer: a reload of another consumer could still be running when the
    // process is killed and write its log line after the crash.
    const sb = sandbox(THREE.split('\n').filter((l) => !l.includes('id: w')).join('\n'));
    await sb.ok(['init']);
    await sb.ok(['rotate', '--all', '--no-grace']);
    const crashed = await sb.run(['rotate', '--all', '--no-grace'], { ROTOR_CRASH_AT: boundary });
    expect(crashed.signal ?? crashed.code, crashed.stderr).not.toBe(0);
    const before = reloads(sb).length;
    await sb.ok(['resume']);
    const api = reloads(sb).slice(before).filter((x) => x.consumer === 'api');
    expect(api.map((x) => sorted(x.secrets))).toEqual(['a@2,b@2,c@2']);
    const env = readFileSync(sb.path('app.env'), 'utf8');
    for (const id of ['a', 'b', 'c']) {
      expect(env).toContain(`${id.toUpperCase()}_TOKEN=${await get(sb, id)}\n`);
      const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', id]);
      expect(h.versions.map((v) => `${v.version}:${v.stage}`)).toEqual(['1:retired', '2:current']);
    }
  });

  it('runs the reload with the secrets that came when one never reaches propagate', async () => {
    const dead = await freePort();
    const sb = sandbox(`  - { id: a, type: random, consumers: [api] }
  - { id: b, type: random, consumers: [api] }
  - { id: c, type: postgres-password, target: db, strategy: single, username: app, consumers: [api] }
`, `targets:\n  db: { type: postgres, url: "postgres://admin:pw@127.0.0.1:${dead}/postgres" }\n`);
    await sb.ok(['init']);
    const r = await sb.run(['rotate', '--all', '--concurrency', '1']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/NOT STARTED\s+c/);
    expect(reloads(sb).map((x) => `${x.consumer}:${sorted(x.secrets)}`)).toEqual(['api:a@1,b@1']);
  });

  it('never hands Rotor\'s master key or backup passphrase to a reload or health command', async () => {
    const DUMP = `import { appendFileSync } from 'node:fs';
process.stdin.resume();
process.stdin.on('end', () => appendFileSync('env.log', JSON.stringify(process.env) + '\\n'));
`;
    const sb = new Sandbox(`version: 1
consumers:
  api:
    reload: [{ command: ["${process.execPath}", "dump.mjs"] }]
    health: [{ command: ["${process.execPath}", "dump.mjs"] }]
secrets:
  - { id: a, type: random, consumers: [api] }
`);
    sandboxes.push(sb);
    sb.write('dump.mjs', DUMP);
    await sb.ok(['init']);
    const passphrase = 'backup passphrase planted here';
    await sb.ok(['rotate', 'a'], { ROTOR_BACKUP_PASSPHRASE: passphrase, MARKER: 'inherited' });
    const seen = readFileSync(sb.path('env.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(seen).toHaveLength(2);
    for (const env of seen) {
      expect(env.MARKER).toBe('inherited'); // the rest of the environment is passed on
      expect(Object.values(env).join('\n')).not.toContain(sb.masterKey);
      expect(Object.values(env).join('\n')).not.toContain(passphrase);
    }
  });

  it('refuses deliveries that do not say their secret, and consumer orders that contradict each other', async () => {
    const cases: [string, string, RegExp][] = [
      ['shared delivery without secret', `  - { id: a, type: random, consumers: [worker] }\n  - { id: b, type: random, consumers: [worker] }\n`,
        /consumers\.worker\.deliver\.0: consumer "worker" is used by a, b: say which secret this delivery is for with `secret:`/],
      ['secret that does not use the consumer', `  - { id: a, type: random, consumers: [api] }\n`,
        /consumers\.api\.deliver\.1\.secret: secret "b" does not list consumer "api"/],
      ['contradicting orders', `  - { id: a, type: random, consumers: [web, api] }\n  - { id: b, type: random, consumers: [api, web] }\n  - { id: c, type: random, consumers: [api] }\n`,
        /secrets a, b list consumers web, api in contradicting orders/],
    ];
    for (const [name, secrets, message] of cases) {
      const sb = sandbox(secrets);
      const r = await sb.run(['plan']);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toMatch(message);
    }
  });
});
