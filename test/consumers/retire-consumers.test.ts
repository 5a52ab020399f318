/**
 * End to end with the real binary: retire takes the retiring value away from every
 * consumer that holds it.
 * - A key set synced through one consumer's file (an ExternalSecret) reaches a service
 *   that has no deliveries of its own (a Deployment): retire re-delivers the file without
 *   the retired key, and restarts and health-checks the service too.
 * - `stage: previous` deliveries hold the previous value during grace and an empty string
 *   after retire (and with no grace at all).
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

const RELOAD = `import { appendFileSync } from 'node:fs';
process.stdin.resume();
process.stdin.on('end', () => appendFileSync('reloads.log', process.argv[2] + ' ' + process.env.ROTOR_SECRETS + '\\n'));
`;
/** The Deployment's health: logs that it ran; unhealthy while the synced file holds the kid in bad-kid. */
const CHECK = `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
appendFileSync('health.log', 'deployment\\n');
if (existsSync('bad-kid') && readFileSync('external-secret.json', 'utf8').includes(readFileSync('bad-kid', 'utf8'))) process.exit(1);
`;
const node = (...args: string[]) => `["${process.execPath}", ${args.map((a) => `"${a}"`).join(', ')}]`;

function sandbox(config: string, files: Record<string, string>): Sandbox {
  const sb = new Sandbox(config);
  sandboxes.push(sb);
  sb.write('reload.mjs', RELOAD);
  sb.write('check.mjs', CHECK);
  for (const [name, text] of Object.entries(files)) sb.write(name, text);
  return sb;
}
const lines = (sb: Sandbox, file: string) => (existsSync(sb.path(file)) ? readFileSync(sb.path(file), 'utf8').trim().split('\n') : []);
const get = async (sb: Sandbox, id: string, version: number) => (await sb.ok(['get', id, '--version', String(version)])).stdout.trim();

interface KeySet { kid: string; keys: { kid: string; k: string }[] }

describe('retire reaches a consumer fed through another consumer\'s file', () => {
  const config = `version: 1
stores:
  synced: { type: json, path: external-secret.json }
consumers:
  secret-sync:
    deliver: [{ store: synced, key: data.keyset }]
    reload: [{ command: ${node('reload.mjs', 'secret-sync')}, timeout: 5s }]
  deployment:
    reload: [{ command: ${node('reload.mjs', 'deployment')}, timeout: 5s }]
    health: [{ command: ${node('check.mjs')}, timeout: 5s, retries: 0 }]
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, grace: 1h, consumers: [secret-sync, deployment] }
`;

  it('restarts and health-checks the service at retire, after its file lost the retired key', async () => {
    const sb = sandbox(config, { 'external-secret.json': '{ "data": { "keyset": "" } }\n' });
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);
    await sb.ok(['rotate', 'auth/jwt']);
    const v1 = JSON.parse(await get(sb, 'auth/jwt', 1)) as KeySet;
    expect(readFileSync(sb.path('external-secret.json'), 'utf8')).toContain(v1.kid);
    expect(lines(sb, 'reloads.log')).toEqual(['secret-sync auth/jwt@1', 'deployment auth/jwt@1', 'secret-sync auth/jwt@2', 'deployment auth/jwt@2']);
    const checks = lines(sb, 'health.log').length;

    await sb.ok(['retire', '--force', 'auth/jwt']);
    expect(readFileSync(sb.path('external-secret.json'), 'utf8')).not.toContain(v1.kid);
    expect(lines(sb, 'reloads.log').slice(4)).toEqual(['secret-sync auth/jwt@2', 'deployment auth/jwt@2']);
    expect(lines(sb, 'health.log').length).toBe(checks + 1);
  });

  it('a service unhealthy after the retire fails the retire, which stays open', async () => {
    const sb = sandbox(config, { 'external-secret.json': '{ "data": { "keyset": "" } }\n' });
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);
    await sb.ok(['rotate', 'auth/jwt']);
    // The service breaks on any file that still names v2's key: every one after retire does.
    sb.write('bad-kid', (JSON.parse(await get(sb, 'auth/jwt', 2)) as KeySet).kid);
    const r = await sb.run(['retire', '--force', 'auth/jwt']);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/consumer deployment: health check failed/);
    expect(lines(sb, 'reloads.log').at(-1)).toBe('deployment auth/jwt@2');
    const h = await sb.json<{ versions: { version: number; stage: string }[] }>(['history', 'auth/jwt']);
    expect(h.versions.find((v) => v.version === 1)?.stage).toBe('previous');
  });
});

describe('stage: previous', () => {
  const config = `version: 1
stores:
  app-env: { type: env-file, path: app.env }
consumers:
  api:
    deliver:
      - { store: app-env, key: S2S_SECRET }
      - { store: app-env, key: S2S_SECRET_PREVIOUS, stage: previous }
    reload: [{ command: ${node('reload.mjs', 'api')}, timeout: 5s }]
secrets:
  - { id: s2s, type: random, grace: 1h, consumers: [api] }
`;
  const env = (current: string, previous: string) => `S2S_SECRET=${current}\nS2S_SECRET_PREVIOUS=${previous || '""'}\n`;

  it('is empty on the first rotation', async () => {
    const sb = sandbox(config, { 'app.env': 'S2S_SECRET=\nS2S_SECRET_PREVIOUS=\n' });
    await sb.ok(['init']);
    await sb.ok(['rotate', 's2s']);
    expect(readFileSync(sb.path('app.env'), 'utf8')).toBe(env(await get(sb, 's2s', 1), ''));
  });

  // ENGINE: the engine passes `previous`, and calls refresh at retire when deliversPrevious.
  it('holds the previous value during grace, is emptied and reloaded at retire, and is empty without grace', async () => {
    const sb = sandbox(config, { 'app.env': 'S2S_SECRET=\nS2S_SECRET_PREVIOUS=\n' });
    await sb.ok(['init']);
    await sb.ok(['rotate', 's2s']);
    await sb.ok(['rotate', 's2s']);
    expect(readFileSync(sb.path('app.env'), 'utf8')).toBe(env(await get(sb, 's2s', 2), await get(sb, 's2s', 1)));

    await sb.ok(['retire', '--force', 's2s']);
    expect(readFileSync(sb.path('app.env'), 'utf8')).toBe(env(await get(sb, 's2s', 2), ''));
    expect(lines(sb, 'reloads.log')).toEqual(['api s2s@1', 'api s2s@2', 'api s2s@2']);

    await sb.ok(['rotate', 's2s', '--no-grace']);
    expect(readFileSync(sb.path('app.env'), 'utf8')).toBe(env(await get(sb, 's2s', 3), ''));
    expect(lines(sb, 'reloads.log')).toHaveLength(4); // one reload: retire had nothing left to take away
  });

  // ENGINE: the engine passes `previous` (the previous version's value as consumers get it).
  it('an HS256 app keeps {"current", "previous"} secrets: both during grace, the current one after retire', async () => {
    const sb = sandbox(`version: 1
stores:
  app: { type: json, path: app.json }
consumers:
  api:
    deliver:
      - { store: app, key: jwt.current, field: secret }
      - { store: app, key: jwt.previous, field: secret, stage: previous }
    reload: [{ command: ${node('reload.mjs', 'api')}, timeout: 5s }]
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, grace: 1h, consumers: [api] }
`, { 'app.json': '{ "jwt": { "current": "", "previous": "" } }\n' });
    const app = () => (JSON.parse(readFileSync(sb.path('app.json'), 'utf8')) as { jwt: unknown }).jwt;
    const secretOf = async (version: number) => {
      const v = JSON.parse(await get(sb, 'auth/jwt', version)) as KeySet;
      return v.keys.find((k) => k.kid === v.kid)!.k;
    };
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);
    expect(app()).toEqual({ current: await secretOf(1), previous: '' });
    await sb.ok(['rotate', 'auth/jwt']);
    expect(app()).toEqual({ current: await secretOf(2), previous: await secretOf(1) });
    await sb.ok(['retire', '--force', 'auth/jwt']);
    expect(app()).toEqual({ current: await secretOf(2), previous: '' });
  });
});
