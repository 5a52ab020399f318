/**
 * A key set delivered to a service never keeps a retired key working: while the previous
 * key is in grace the service gets both, after retire it is re-delivered and reloaded
 * without the old key, a rollback re-delivers the previous value without keys retired
 * before it, and a rotation without grace delivers the new key alone (one reload).
 */
import { readFileSync } from 'node:fs';
import { importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));

const RELOAD = `import { appendFileSync } from 'node:fs';
process.stdin.resume();
process.stdin.on('end', () => appendFileSync('reloads.log', process.env.ROTOR_SECRETS + '\\n'));
`;
/** Unhealthy while the delivered signing kid is the one named in bad-kid. */
const CHECK = `import { existsSync, readFileSync } from 'node:fs';
const { kid } = JSON.parse(JSON.parse(readFileSync('app.json', 'utf8')).jwt);
if (existsSync('bad-kid') && readFileSync('bad-kid', 'utf8') === kid) process.exit(1);
`;

interface KeySet { alg: string; kid: string; keys: (JWK & { kid: string })[] }

function sandbox(): Sandbox {
  const sb = new Sandbox(`version: 1
stores:
  app: { type: json, path: app.json }
consumers:
  api:
    deliver: [{ store: app, key: jwt }]
    reload: [{ command: ["${process.execPath}", "reload.mjs"], timeout: 5s }]
    health: [{ command: ["${process.execPath}", "check.mjs"], timeout: 5s, retries: 0 }]
secrets:
  - { id: auth/jwt, type: jwt-keyset, algorithm: HS256, grace: 1h, consumers: [api] }
`);
  sandboxes.push(sb);
  sb.write('app.json', '{ "jwt": "" }\n');
  sb.write('reload.mjs', RELOAD);
  sb.write('check.mjs', CHECK);
  return sb;
}

const delivered = (sb: Sandbox) => JSON.parse((JSON.parse(readFileSync(sb.path('app.json'), 'utf8')) as { jwt: string }).jwt) as KeySet;
const kidsDelivered = (sb: Sandbox) => delivered(sb).keys.map((k) => k.kid);
const stored = async (sb: Sandbox, version: number) => JSON.parse((await sb.ok(['get', 'auth/jwt', '--version', String(version)])).stdout) as KeySet;
const reloadCount = (sb: Sandbox) => readFileSync(sb.path('reloads.log'), 'utf8').trim().split('\n').length;

/** Does the service's delivered key set accept a token signed with `version`'s signing key? */
async function serviceAccepts(sb: Sandbox, version: number): Promise<boolean> {
  const v = await stored(sb, version);
  const signing = v.keys.find((k) => k.kid === v.kid)!;
  const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256', kid: v.kid }).sign(await importJWK(signing, 'HS256'));
  const key = delivered(sb).keys.find((k) => k.kid === v.kid);
  if (!key) return false;
  try {
    await jwtVerify(token, await importJWK(key, 'HS256'));
    return true;
  } catch {
    return false;
  }
}

describe('key sets delivered to consumers', () => {
  it('drop the retired key at retire, on rollback and without grace', async () => {
    const sb = sandbox();
    await sb.ok(['init']);
    await sb.ok(['rotate', 'auth/jwt']);
    await sb.ok(['rotate', 'auth/jwt']);
    const [v1, v2] = [await stored(sb, 1), await stored(sb, 2)];
    // In grace: the service still accepts tokens signed with the previous key.
    expect(kidsDelivered(sb)).toEqual([v2.kid, v1.kid]);
    expect(await serviceAccepts(sb, 1)).toBe(true);
    expect(reloadCount(sb)).toBe(2);

    // Retire: re-delivered without the old key and reloaded; the stored value is unchanged.
    const retire = await sb.ok(['retire', '--force', 'auth/jwt']);
    expect(retire.stdout).toMatch(/ok\s+auth\/jwt/);
    expect(kidsDelivered(sb)).toEqual([v2.kid]);
    expect(await serviceAccepts(sb, 1)).toBe(false);
    expect(await serviceAccepts(sb, 2)).toBe(true);
    expect(reloadCount(sb)).toBe(3);
    expect((await stored(sb, 2)).keys.map((k) => k.kid)).toEqual([v2.kid, v1.kid]);

    // A failed rotation rolls back to v3: re-delivered as the service had it, without v2's key.
    await sb.ok(['rotate', 'auth/jwt']);
    await sb.ok(['retire', '--force', 'auth/jwt']);
    const v3kid = (await stored(sb, 3)).kid;
    expect(kidsDelivered(sb)).toEqual([v3kid]);
    const before = reloadCount(sb);
    // The next key is refused by the service's health check: stop the run before propagate,
    // learn the new kid, make the health check refuse it, and resume.
    const failing = await sb.run(['rotate', 'auth/jwt'], { ROTOR_CRASH_AT: 'propagate:before' });
    expect(failing.signal ?? failing.code).not.toBe(0);
    sb.write('bad-kid', (await stored(sb, 4)).kid);
    const resumed = await sb.run(['resume']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(1);
    expect(resumed.stdout).toMatch(/ROLLED BACK\s+auth\/jwt\s+at propagate: consumer api: health check failed/);
    expect(kidsDelivered(sb)).toEqual([v3kid]); // not v3's stored [k3, k2]: k2 is retired
    expect(reloadCount(sb) - before).toBe(2); // the failed delivery and the restore

    // Without grace the new key goes out alone, in the run's one reload.
    const quick = reloadCount(sb);
    await sb.ok(['rotate', 'auth/jwt', '--no-grace']);
    const v5 = await stored(sb, 5);
    expect(kidsDelivered(sb)).toEqual([v5.kid]);
    expect(reloadCount(sb) - quick).toBe(1);
    expect(await serviceAccepts(sb, 3)).toBe(false);
  });
});
