/**
 * `rotor adopt --from-store` against moto, through the real binary: a Secrets Manager
 * secret a team made before Rotor (AWSCURRENT on a version Rotor did not write) becomes
 * Rotor's v1 current, AWSCURRENT moves onto Rotor's version, and the first rotation rolls
 * on from it. A value that does not fit the type, a store with nothing to adopt, and a
 * missing secret are refused (exit 2) with nothing changed and no value in any output.
 */
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { motoForFile } from '../helpers/servers/moto-suite.js';
import { motoMissing } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the Secrets Manager adopt tests: ${missing}`);

/** What a team kept in Secrets Manager before Rotor: a 32-character base64url string, stored raw. */
const FOREIGN32 = 'Tm9tYWRzQW5kU2V0dGxlcnNfX2FkMDEx';

function config(prefix: string): string {
  return [
    'version: 1',
    'stores:',
    `  aws: { type: aws-secrets-manager, region: us-east-1, prefix: ${prefix}, endpoint: "\${MOTO_ENDPOINT}" }`,
    'secrets:',
    '  - { id: app/key, type: random, length: 32, store: aws, grace: 1h }',
    '  - { id: app/ring, type: keyring, store: aws, grace: 1h }',
    '  - { id: app/local, type: random, length: 32 }',
    '',
  ].join('\n');
}

type History = { versions: { version: number; stage: string }[] };

describe.skipIf(missing)('rotor adopt --from-store (moto)', () => {
  const aws = motoForFile();
  const sandboxes: Sandbox[] = [];
  afterAll(() => sandboxes.forEach((s) => s.remove()));

  async function sandbox(prefix: string): Promise<Sandbox> {
    const sb = new Sandbox(config(prefix));
    Object.assign(sb.baseEnv, aws.server().env, { MOTO_ENDPOINT: aws.server().endpoint });
    sandboxes.push(sb);
    await sb.ok(['init']);
    return sb;
  }
  /** A secret made outside Rotor: CreateSecret with a value, which Secrets Manager labels AWSCURRENT. */
  const foreignSecret = async (name: string, value: string) => (await aws.client().send(new CreateSecretCommand({ Name: name, SecretString: value }))).VersionId!;
  const describeSecret = (name: string) => aws.client().send(new DescribeSecretCommand({ SecretId: name }));
  const awsCurrent = (name: string) => aws.client().send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
  const versions = async (sb: Sandbox, id: string) => (await sb.json<History>(['history', id])).versions.map((v) => `v${v.version}:${v.stage}`);

  it('adopts AWSCURRENT as v1 current, moves AWSCURRENT onto Rotor\'s version, and the first rotation rolls on from it', async () => {
    expect(FOREIGN32).toHaveLength(32);
    const sb = await sandbox('adopt/');
    const foreignId = await foreignSecret('adopt/app/key', FOREIGN32);

    const adopted = await sb.run(['adopt', 'app/key', '--from-store', '--json']);
    expect(adopted.code, adopted.stderr).toBe(0);
    const result = JSON.parse(adopted.stdout) as { version: number; detail: string };
    expect(result.version).toBe(1);
    expect(result.detail).toContain('adopted AWSCURRENT of adopt/app/key as v1');
    expect(result.detail).toContain(`AWSCURRENT moved from version ${foreignId}`);
    // Rotor stores every value as JSON: the raw string gains quotes, and adopt says so.
    expect(result.detail).toMatch(/JSON string \(in quotes\)/);
    expect(adopted.stdout + adopted.stderr).not.toContain(FOREIGN32);

    expect((await sb.ok(['get', 'app/key'])).stdout.trim()).toBe(FOREIGN32);
    expect(await versions(sb, 'app/key')).toEqual(['v1:current']);
    const current = await awsCurrent('adopt/app/key');
    expect(current.VersionId).toMatch(/^rotor-[0-9a-f]{40}$/);
    expect(current.SecretString).toBe(JSON.stringify(FOREIGN32));
    // The foreign version keeps its value but no label (see syncStages for why).
    const d = await describeSecret('adopt/app/key');
    expect(d.VersionIdsToStages?.[foreignId] ?? []).toEqual([]);
    expect(d.VersionIdsToStages?.[current.VersionId!]).toEqual(['AWSCURRENT']);

    // The first rotation: AWSPREVIOUS lands on Rotor's adopted version, which holds the old value.
    const rotated = await sb.ok(['rotate', 'app/key']);
    expect(rotated.stdout + rotated.stderr).not.toMatch(/did not write/);
    const v2 = (await sb.ok(['get', 'app/key'])).stdout.trim();
    expect(v2).not.toBe(FOREIGN32);
    expect((await awsCurrent('adopt/app/key')).SecretString).toBe(JSON.stringify(v2));
    expect((await aws.client().send(new GetSecretValueCommand({ SecretId: 'adopt/app/key', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(JSON.stringify(FOREIGN32));
    expect(await versions(sb, 'app/key')).toEqual(['v1:previous', 'v2:current']);
    const audit = (await sb.ok(['audit', 'export'])).stdout;
    expect(audit).toContain('"action":"secret.adopted"');
    expect(audit).not.toContain(FOREIGN32);
  });

  it('refuses a value that does not fit the type: exit 2, nothing changed, no value in the output', async () => {
    const sb = await sandbox('misfit/');
    const notJson = 'plain-text-not-a-keyring-0123456789';
    const foreignId = await foreignSecret('misfit/app/ring', notJson);
    const before = (await describeSecret('misfit/app/ring')).VersionIdsToStages;

    const r = await sb.run(['adopt', 'app/ring', '--from-store']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('what AWSCURRENT of misfit/app/ring holds is not a value of a keyring secret');
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(r.stdout + r.stderr).not.toContain(notJson);
    expect((await describeSecret('misfit/app/ring')).VersionIdsToStages).toEqual(before);
    expect(Object.keys(before ?? {})).toEqual([foreignId]);
    expect(await versions(sb, 'app/ring')).toEqual([]);

    // A value of the right shape that the type's own check refuses (too short for length 32).
    const short = 'shortButValid_abc';
    await foreignSecret('misfit/app/key', short);
    const s = await sb.run(['adopt', 'app/key', '--from-store']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/does not work at the target/);
    expect(s.stdout + s.stderr).not.toContain(short);
    expect(await versions(sb, 'app/key')).toEqual([]);
  });

  it('a store that holds nothing to adopt, and a secret Secrets Manager does not have, are exit 2 naming stdin', async () => {
    const sb = await sandbox('none/');
    const local = await sb.run(['adopt', 'app/local', '--from-store']);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('holds no value to adopt; pipe it on stdin');

    const absent = await sb.run(['adopt', 'app/key', '--from-store']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/serves no current text value to adopt/);
    expect(absent.stderr).toMatch(/printf %s "\$VALUE" \| rotor adopt app\/key/);
    expect(await versions(sb, 'app/key')).toEqual([]);

    // An empty stdin is still an error (an unset variable), and the hint names --from-store.
    const empty = await sb.run(['adopt', 'app/key'], {}, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/rotor adopt app\/key --from-store/);
  });
});
