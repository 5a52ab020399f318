/**
 * Rotor with its versions in Secrets Manager (moto), through the real binary: a rotation
 * of a `random` secret, `rotor get` against AWSCURRENT read with the SDK, a rollback in
 * grace moving AWSCURRENT back, and a crash at each of the 12 step boundaries followed by
 * `rotor resume`. Credentials reach rotor through the environment only.
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { expectInvariant } from '../helpers/invariant.js';
import { Sandbox } from '../helpers/sandbox.js';
import { motoForFile } from '../helpers/servers/moto-suite.js';
import { motoMissing } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the Secrets Manager CLI tests: ${missing}`);

const VALUE = /^[A-Za-z0-9_-]{32}$/;
const STEPS = ['create', 'apply', 'verify', 'promote', 'propagate', 'retire'] as const;
const BOUNDARIES = STEPS.flatMap((s) => [`${s}:before`, `${s}:after`]);

function config(prefix: string, grace = '1h'): string {
  return [
    'version: 1',
    'stores:',
    `  aws: { type: aws-secrets-manager, region: us-east-1, prefix: ${prefix}, endpoint: "\${MOTO_ENDPOINT}" }`,
    'secrets:',
    `  - { id: app/key, type: random, length: 32, store: aws, grace: ${grace} }`,
    '',
  ].join('\n');
}

describe.skipIf(missing)('rotor with an aws-secrets-manager store (moto)', () => {
  const aws = motoForFile();
  const sandboxes: Sandbox[] = [];
  afterAll(() => sandboxes.forEach((s) => s.remove()));

  function sandbox(prefix: string, grace?: string): Sandbox {
    const sb = new Sandbox(config(prefix, grace));
    Object.assign(sb.baseEnv, aws.server().env, { MOTO_ENDPOINT: aws.server().endpoint });
    sandboxes.push(sb);
    return sb;
  }
  const awsCurrent = async (name: string) => (await aws.client().send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }))).SecretString;
  const labelSets = async (name: string) => Object.values((await aws.client().send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {}).map((l) => [...l].sort().join('+')).filter(Boolean).sort();
  const get = async (sb: Sandbox, args: string[] = []) => (await sb.ok(['get', 'app/key', ...args])).stdout.trim();

  it('rotates, serves AWSCURRENT as `rotor get` does, and rolls back during grace', async () => {
    const sb = sandbox('e2e/');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/key']);
    const v1 = await get(sb);
    expect(v1).toMatch(VALUE);
    expect(await awsCurrent('e2e/app/key')).toBe(JSON.stringify(v1));

    const rotated = await sb.ok(['rotate', 'app/key']);
    const v2 = await get(sb);
    expect(v2).not.toBe(v1);
    expect(await awsCurrent('e2e/app/key')).toBe(JSON.stringify(v2));
    expect(await labelSets('e2e/app/key')).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    expect(await get(sb, ['--stage', 'previous'])).toBe(v1);
    // No value in what the CLI says besides `get`.
    expect(rotated.stdout + rotated.stderr).not.toContain(v2);

    await sb.ok(['rollback', 'app/key']);
    expect(await get(sb)).toBe(v1);
    expect(await awsCurrent('e2e/app/key')).toBe(JSON.stringify(v1));
    expect(await labelSets('e2e/app/key')).toEqual(['AWSCURRENT']);

    // The next rotation after a rollback, with no grace: the previous value loses its labels.
    await sb.ok(['rotate', 'app/key', '--no-grace']);
    const v3 = await get(sb);
    expect(await awsCurrent('e2e/app/key')).toBe(JSON.stringify(v3));
    expect(await labelSets('e2e/app/key')).toEqual(['AWSCURRENT']);
    await expectInvariant(sb, 'app/key', VALUE);
  });

  it('replicaRegions: a secret that exists without the DR region gains it, and the DR replica serves AWSCURRENT after the rotation', async () => {
    const sb = sandbox('dr/');
    sb.write('rotor.yaml', config('dr/').replace('endpoint:', 'replicaRegions: [eu-west-1], endpoint:'));
    const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    await aws.client().send(new CreateSecretCommand({ Name: 'dr/app/key' }));
    await sb.ok(['init']);
    const rotated = await sb.ok(['rotate', 'app/key', '--json']);
    expect(rotated.stdout).not.toMatch(/warning|replica/i);
    const replica = new SecretsManagerClient({ ...aws.server().clientConfig, region: 'eu-west-1' });
    try {
      const inDr = await replica.send(new GetSecretValueCommand({ SecretId: 'dr/app/key', VersionStage: 'AWSCURRENT' }));
      expect(inDr.SecretString).toBe(JSON.stringify(await get(sb)));
    } finally {
      replica.destroy();
    }
    const d = await aws.client().send(new DescribeSecretCommand({ SecretId: 'dr/app/key' }));
    expect(d.ReplicationStatus?.map((r) => r.Region)).toEqual(['eu-west-1']);

    // The primary region named as a replica is a config error.
    sb.write('rotor.yaml', config('dr/').replace('endpoint:', 'replicaRegions: [us-east-1], endpoint:'));
    const bad = await sb.run(['status']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/replicaRegions.*differ from `region`/);
  });

  it('refuses a secret another Rotor project made (exit 2, labels untouched): two projects on one prefix would undo each other', async () => {
    const a = sandbox('shared/');
    const b = sandbox('shared/');
    await a.ok(['init']);
    await a.ok(['rotate', 'app/key']);
    const tags = (await aws.client().send(new DescribeSecretCommand({ SecretId: 'shared/app/key' }))).Tags ?? [];
    expect(tags.find((t) => t.Key === 'rotor:project')?.Value).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const before = await labelSets('shared/app/key');
    const current = await awsCurrent('shared/app/key');
    await b.ok(['init']);
    const r = await b.run(['rotate', 'app/key']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/shared\/app\/key belongs to another Rotor project/);
    expect(await labelSets('shared/app/key')).toEqual(before);
    expect(await awsCurrent('shared/app/key')).toBe(current);
    await a.ok(['rotate', 'app/key']);
  });

  it('a pending label another rotation left is taken off at create and named in the outcome\'s warnings', async () => {
    const sb = sandbox('stuck-cli/');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/key']);
    const { PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    await aws.client().send(new PutSecretValueCommand({ SecretId: 'stuck-cli/app/key', ClientRequestToken: 'lambda-rotation-0000-4000-8000-000000000001', SecretString: '"half-made"', VersionStages: ['AWSPENDING'] }));
    const r = await sb.ok(['rotate', 'app/key', '--json']);
    const warnings = (JSON.parse(r.stdout) as { outcomes: { warnings?: string[] }[] }).outcomes[0]!.warnings ?? [];
    expect(warnings.join('\n')).toMatch(/AWSPENDING was on version lambda-rotation-0000-4000-8000-000000000001 of stuck-cli\/app\/key, which Rotor did not write.*removed/);
    expect(r.stdout).not.toContain('half-made');
    expect(await labelSets('stuck-cli/app/key')).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('a bad store entry is a config error (exit 2) naming the field', async () => {
    const sb = sandbox('bad/');
    sb.write('rotor.yaml', config('bad/').replace('region: us-east-1', 'region: Frankfurt'));
    const r = await sb.run(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rotor\.yaml:3.*region.*eu-west-1/);
  });

  describe.concurrent('crash at every step boundary, then resume: AWSCURRENT is what `rotor get` prints', () => {
    it.each(BOUNDARIES)('%s', async (boundary) => {
      const prefix = `crash-${boundary.replace(':', '-')}/`;
      const name = `${prefix}app/key`;
      const sb = sandbox(prefix);
      await sb.ok(['init']);
      await sb.ok(['rotate', 'app/key', '--no-grace']);
      const before = await get(sb);

      const crashed = await sb.run(['rotate', 'app/key', '--no-grace'], { ROTOR_CRASH_AT: boundary });
      expect(crashed.signal).toBe('SIGKILL');
      // Before resume, AWSCURRENT already is the value staged current.
      expect(await awsCurrent(name)).toBe(JSON.stringify(await get(sb)));

      await sb.ok(['resume']);
      // Lighter than expectInvariant (the step-boundary invariant itself is proven by
      // test/engine/crash-matrix.test.ts): this checks the labels against the state.
      const h = await sb.json<{ versions: { stage: string }[]; rotations: { status: string }[] }>(['history', 'app/key']);
      expect(h.versions.map((v) => v.stage).sort()).toEqual(['current', 'retired']);
      expect(h.rotations.filter((r) => ['running', 'rolling-back', 'grace'].includes(r.status))).toEqual([]);
      const current = await get(sb);
      expect(current).toMatch(VALUE);
      expect(current).not.toBe(before);
      expect(await awsCurrent(name)).toBe(JSON.stringify(current));
      expect(await labelSets(name)).toEqual(['AWSCURRENT']);
    });
  });
});
