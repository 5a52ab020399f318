/**
 * `rotor adopt`, `rotor set` and the `manual` type, and grace counted from delivery:
 * the value in use before Rotor is stored, proven, rolled back to and revoked like any
 * version; a provider's value is handed in and delivered; grace starts when consumers have
 * the new value, not at promote.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));
const sandbox = async (yaml: string) => {
  const sb = new Sandbox(yaml);
  sandboxes.push(sb);
  await sb.ok(['init']);
  return sb;
};

/** Runs rotor with `input` on stdin. */
const piped = (sb: Sandbox, args: string[], input: string) => sb.run(args, {}, input);

type History = {
  versions: { version: number; stage: string }[];
  rotations: { id: string; status: string; retireAfter: number | null; fromVersion: number | null }[];
};
const stages = async (sb: Sandbox, id: string) => (await sb.json<History>(['history', id])).versions.map((v) => `v${v.version}:${v.stage}`);

const MANUAL = `version: 1
stores:
  app-env: { type: env-file, path: ./.env }
consumers:
  app:
    deliver: [{ store: app-env, key: OPENAI_KEY }]
secrets:
  - id: ext/openai
    type: manual
    grace: 1h
    # The provider accepts keys that start with sk-: the value arrives on stdin, never in argv.
    verify: { command: [sh, -c, 'read -r v; case "$v" in sk-*) exit 0;; *) exit 1;; esac'] }
    revoke: "OpenAI dashboard, API keys"
    consumers: [app]
`;

describe.concurrent('adopt, set and manual', () => {
  it('adopt stores the value in use as v1 current; the first rotation rolls back to it and its retire retires it', async () => {
    const sb = await sandbox(`version: 1
consumers:
  app:
    health: [{ command: [sh, -c, 'test -f healthy'], retries: 0 }]
secrets:
  - { id: app/key, type: random, length: 32, encoding: hex, consumers: [app] }
`);
    const old = 'a'.repeat(32);
    const adopted = await piped(sb, ['adopt', 'app/key', '--json'], `${old}\n`);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(JSON.parse(adopted.stdout)).toMatchObject({ secretId: 'app/key', version: 1 });
    expect((await sb.ok(['get', 'app/key'])).stdout.trim()).toBe(old);
    expect(await stages(sb, 'app/key')).toEqual(['v1:current']);

    // The health check fails: the rotation rolls back to the adopted value.
    expect((await sb.run(['rotate', 'app/key'])).code).toBe(1);
    expect((await sb.ok(['get', 'app/key'])).stdout.trim()).toBe(old);
    expect(await stages(sb, 'app/key')).toEqual(['v1:current', 'v2:failed']);

    sb.write('healthy', '');
    await sb.ok(['rotate', 'app/key', '--no-grace']);
    expect(await stages(sb, 'app/key')).toEqual(['v1:retired', 'v2:failed', 'v3:current']);
    const audit = (await sb.ok(['audit', 'export'])).stdout;
    expect(audit).toContain('"action":"secret.adopted"');
    expect(audit).not.toContain(old);
    await sb.ok(['audit', 'verify']);
  });

  it('adopt refuses over existing versions, a value that does not fit the type, and empty input: exit 2, nothing changed', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random, length: 32, encoding: hex }\n  - { id: b, type: random, length: 32, encoding: hex }\n');
    await sb.ok(['rotate', 'a']);
    const before = sb.files('.rotor');
    const over = await piped(sb, ['adopt', 'a'], 'b'.repeat(32));
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/already has versions/);
    const misfit = await piped(sb, ['adopt', 'b'], 'not-hex-and-too-short');
    expect(misfit.code).toBe(2);
    expect(misfit.stderr).toMatch(/does not work at the target|format|does not match/);
    expect(misfit.stderr + misfit.stdout).not.toContain('not-hex-and-too-short');
    expect((await piped(sb, ['adopt', 'b'], '')).code).toBe(2);
    expect(await stages(sb, 'b')).toEqual([]);
    const after = sb.files('.rotor');
    for (const [file, bytes] of before) if (!file.endsWith('state.db') && !/state\.db-(wal|shm)$/.test(file)) expect(after.get(file)).toEqual(bytes);
    expect([...after.keys()].filter((f) => f.includes('/vault/b'))).toEqual([]);
  });

  it('set: verified by the provider command, delivered, previous kept during grace; a refused value rolls back; retire reminds', async () => {
    const sb = await sandbox(MANUAL);
    expect((await piped(sb, ['adopt', 'ext/openai'], 'sk-old-0001\n')).code).toBe(0);

    // Checked before anything changes: refused (exit 2), no version stored, no grace cut short.
    const refused = await piped(sb, ['set', 'ext/openai'], 'pk-wrong-0002\n');
    expect(refused.code).toBe(2);
    expect(await stages(sb, 'ext/openai')).toEqual(['v1:current']);
    expect(refused.stdout + refused.stderr).not.toContain('pk-wrong-0002');
    expect((await sb.ok(['get', 'ext/openai'])).stdout.trim()).toBe('sk-old-0001');

    const set = await piped(sb, ['set', 'ext/openai'], 'sk-new-0003\n');
    expect(set.code, set.stderr).toBe(0);
    expect(readFileSync(sb.path('.env'), 'utf8')).toBe('OPENAI_KEY=sk-new-0003\n');
    expect((await sb.ok(['get', 'ext/openai', '--stage', 'previous'])).stdout.trim()).toBe('sk-old-0001');

    await sb.ok(['retire', '--force', 'ext/openai']);
    const audit = (await sb.ok(['audit', 'export'])).stdout;
    expect(audit).toMatch(/reminder: revoke the old value at the provider \(OpenAI dashboard, API keys\)/);
    for (const v of ['sk-old-0001', 'pk-wrong-0002', 'sk-new-0003']) expect(audit).not.toContain(v);
  });

  it('a manual secret without rotate.command is refused by rotate (exit 2); with one, rotate takes the value it prints', async () => {
    const sb = await sandbox(MANUAL);
    const refused = await sb.run(['rotate', 'ext/openai']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/REFUSED.*rotor set|rotor set/s);

    const scripted = await sandbox(`${MANUAL}    rotate: { command: [sh, -c, 'echo sk-from-provider-$$'] }\n`);
    await scripted.ok(['rotate', 'ext/openai']);
    expect((await scripted.ok(['get', 'ext/openai'])).stdout).toMatch(/^sk-from-provider-\d+\n$/);
  });
});

describe('grace runs from delivery', () => {
  it('a slow reload does not eat the grace: the rotation ends in grace, and retire waits a full grace after propagate', async () => {
    const sb = await sandbox(`version: 1
consumers:
  slow:
    reload: [{ command: [sleep, "2"], timeout: 10s }]
secrets:
  - { id: a, type: random, grace: 8s, consumers: [slow] }
`);
    await sb.ok(['rotate', 'a']);
    const started = Date.now();
    const r = await sb.json<{ outcomes: { status: string }[] }>(['rotate', 'a']);
    expect(r.outcomes[0]!.status).toBe('grace');
    const h = await sb.json<History>(['history', 'a']);
    const latest = h.rotations.at(-1)!;
    expect(latest.status).toBe('grace');
    // Grace (8 s) counted from the end of the 2 s reload, not from promote.
    expect(latest.retireAfter! - started).toBeGreaterThanOrEqual(9_900);
    const early = await sb.json<{ outcomes: unknown[] }>(['retire', '--due']);
    expect(early.outcomes).toEqual([]);
    expect(await stages(sb, 'a')).toEqual(['v1:previous', 'v2:current']);
  });
});

describe('hook commands that hang', () => {
  it('a manual verify command that hangs is killed with its children at its timeout: the run ends on time, nothing stored', async () => {
    // A step timeout cannot be shorter than the command's own (config rule): the command's timeout ends it.
    const sb = await sandbox(`version: 1
secrets:
  - id: ext/slow
    type: manual
    verify: { command: [sh, -c, 'cat > /dev/null; sleep 30'], timeout: 1s }
`);
    const started = Date.now();
    const r = await piped(sb, ['set', 'ext/slow', '--no-grace'], 'sk-slow-value-0001\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/did not finish within 1s/);
    expect(r.stdout + r.stderr).not.toContain('sk-slow-value-0001');
  });
});
