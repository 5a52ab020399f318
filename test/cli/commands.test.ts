/** The commands around a rotation: grace and retire, rollback, emergency, get, schema. */
import { readdirSync, readFileSync } from 'node:fs';
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

type History = { versions: { version: number; stage: string }[]; rotations: { status: string; trigger: string; incident: string | null }[] };
const stages = async (sb: Sandbox, id: string) => (await sb.json<History>(['history', id])).versions.map((v) => `v${v.version}:${v.stage}`);

describe.concurrent('commands', () => {
  it('grace: previous stays readable until `retire --due` after grace ends', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random, grace: 8s }\n');
    await sb.ok(['rotate', 'a']);
    await sb.ok(['rotate', 'a']);
    expect(await stages(sb, 'a')).toEqual(['v1:previous', 'v2:current']);
    const early = await sb.json<{ outcomes: unknown[]; waiting: { secretId: string; retireAfter: number }[] }>(['retire', '--due']);
    expect(early.outcomes).toEqual([]);
    expect(early.waiting).toEqual([{ secretId: 'a', retireAfter: expect.any(Number) }]);
    expect((await sb.ok(['get', 'a', '--stage', 'previous'])).stdout.trim()).toHaveLength(32);
    await new Promise((r) => setTimeout(r, Math.max(0, early.waiting[0]!.retireAfter - Date.now()) + 200));
    await sb.ok(['retire', '--due']);
    expect(await stages(sb, 'a')).toEqual(['v1:retired', 'v2:current']);
    expect((await sb.run(['get', 'a', '--stage', 'previous'])).code).toBe(2);
  });

  it('rollback: previous becomes current again during grace, and is refused after', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    await sb.ok(['rotate', 'a']);
    const v1 = (await sb.ok(['get', 'a'])).stdout;
    await sb.ok(['rotate', 'a']);
    expect((await sb.ok(['get', 'a'])).stdout).not.toBe(v1);
    expect((await sb.ok(['rollback', 'a', '--reason', 'bad deploy'])).stdout).toMatch(/v1 is current again/);
    expect((await sb.ok(['get', 'a'])).stdout).toBe(v1);
    expect(await stages(sb, 'a')).toEqual(['v1:current', 'v2:failed']);
    const again = await sb.run(['rollback', 'a']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no previous value that is still valid/);
  });

  it('emergency: everything in scope rotated with no grace, critical first, report written, audit tagged', async () => {
    const sb = await sandbox(
      'version: 1\nsecrets:\n  - { id: low, type: random, priority: low }\n  - { id: crit, type: random, priority: critical }\n  - { id: high, type: random, priority: high }\n',
    );
    await sb.ok(['rotate', '--all']);
    const r = await sb.ok(['emergency', '--scope', 'high', '--incident', 'INC-1', '--reason', 'key leaked', '--concurrency', '1']);
    expect(r.stdout).toMatch(/incident report: .*INC-1/);
    for (const id of ['crit', 'high']) expect(await stages(sb, id)).toEqual(['v1:retired', 'v2:current']);
    expect(await stages(sb, 'low')).toEqual(['v1:current']);
    const dir = sb.path('.rotor', 'incidents');
    const report = JSON.parse(readFileSync(`${dir}/${readdirSync(dir)[0]}`, 'utf8'));
    expect(report).toMatchObject({ incident: 'INC-1', reason: 'key leaked', scope: 'high', rotated: ['crit', 'high'], exitCode: 0 });
    const events = (await sb.ok(['audit', 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const started = events.filter((e) => e.action === 'rotation.started' && e.incident === 'INC-1').map((e) => e.secretId);
    expect(started).toEqual(['crit', 'high']);
  });

  it('get --field refuses a plain string value with what to do', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n');
    await sb.ok(['rotate', 'a']);
    const r = await sb.run(['get', 'a', '--field', 'password']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plain string: drop --field/);
  });

  it('status and plan before any rotation say what is due', async () => {
    const sb = await sandbox('version: 1\nsecrets:\n  - { id: a, type: random, interval: 30d }\n');
    expect((await sb.ok(['status'])).stdout).toMatch(/a\s+random\s+medium\s+-\s+-\s+now \(never rotated\)/);
    const plans = (await sb.json<{ plans: { id: string; from: number | null }[] }>(['plan', '--due'])).plans;
    expect(plans).toEqual([expect.objectContaining({ id: 'a', from: null })]);
    await sb.ok(['rotate', '--due']);
    expect((await sb.json<{ plans: unknown[] }>(['plan', '--due'])).plans).toEqual([]);
  });

  it('schema: a JSON Schema that knows each type and its fields', async () => {
    const sb = await sandbox('version: 1\n');
    const schema = JSON.parse((await sb.ok(['schema'])).stdout);
    const branch = schema.properties.secrets.items.oneOf.find((b: { properties: { type: { const: string } } }) => b.properties.type.const === 'random');
    expect(Object.keys(branch.properties)).toEqual(expect.arrayContaining(['id', 'grace', 'interval', 'length', 'encoding', 'prefix']));
    expect(branch.additionalProperties).toBe(false);
  });
});

describe('progress', () => {
  it('draws a live progress line on a terminal, and nothing of it when output is piped', async () => {
    const { spawnSync } = await import('node:child_process');
    const { BIN } = await import('../helpers/sandbox.js');
    const sb = await sandbox(`version: 1\nsecrets:\n${Array.from({ length: 200 }, (_, i) => `  - { id: k${i}, type: random }`).join('\n')}\n`);
    // `script` gives the child a pseudo-terminal, as an operator's shell would.
    const tty = spawnSync('script', ['-qec', `${process.execPath} ${BIN} rotate --all --no-grace`, '/dev/null'], {
      cwd: sb.dir, env: sb.env(), encoding: 'utf8',
    });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/rotating \[#+\.*\] \d+\/200/);
    expect(tty.stdout).toMatch(/200\/200/);
    const piped = await sb.ok(['rotate', '--all', '--no-grace']);
    expect(piped.stdout + piped.stderr).not.toMatch(/rotating \[/);
    expect(piped.stdout).toMatch(/200 secrets: 200 ok/);
  });
});
