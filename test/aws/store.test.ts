/**
 * The aws-secrets-manager version store against moto through the real AWS SDK: versions
 * and their tokens, staging labels as Rotor's stages move, a pending label another
 * rotation left behind, and how AWS errors become Rotor errors.
 */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsError } from '../../src/aws/secrets-manager.js';
import { RotorError, IntegrityError } from '../../src/errors.js';
import { SecretsManagerStore, versionToken } from '../../src/stores/aws-secrets-manager/store.js';
import type { StagedVersion } from '../../src/stores/types.js';
import { motoMissing, startMoto, type MotoServer } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the Secrets Manager store tests: ${missing}`);

describe.skipIf(missing)('aws-secrets-manager store (moto)', () => {
  let moto: MotoServer;
  let client: SecretsManagerClient;
  let store: SecretsManagerStore;
  beforeAll(async () => {
    moto = await startMoto();
    client = new SecretsManagerClient(moto.clientConfig);
    store = new SecretsManagerStore({ client, prefix: 'test/' });
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  /** Labels by Rotor version number, from the service itself. */
  async function labels(secretId: string, versions: { version: number; rotationId: string }[]): Promise<Record<number, string[]>> {
    const d = await client.send(new DescribeSecretCommand({ SecretId: `test/${secretId}` }));
    const out: Record<number, string[]> = {};
    for (const v of versions) out[v.version] = [...(d.VersionIdsToStages?.[versionToken({ secretId, ...v })] ?? [])].sort();
    return out;
  }
  // By label, as External Secrets and apps ask (moto's label-less default does not follow moved labels).
  const current = async (secretId: string) => (await client.send(new GetSecretValueCommand({ SecretId: `test/${secretId}`, VersionStage: 'AWSCURRENT' }))).SecretString;

  it('stores versions under tokens from the rotation, idempotently, and never overwrites one', async () => {
    const v = { secretId: 'idem', version: 1, rotationId: 'r-aaa-1' };
    await store.putVersion({ ...v, plaintext: 'first' });
    await store.putVersion({ ...v, plaintext: 'first' });
    await expect(store.putVersion({ ...v, plaintext: 'second' })).rejects.toBeInstanceOf(IntegrityError);
    expect(await store.getVersion(v)).toBe('first');
    // The same version number of another rotation is another version.
    expect(await store.getVersion({ ...v, rotationId: 'r-bbb-2' })).toBeUndefined();
    expect(await store.getVersion({ ...v, secretId: 'never-made' })).toBeUndefined();
    const token = versionToken(v);
    expect(token).toMatch(/^rotor-[0-9a-f]{40}$/);
    expect(versionToken(v)).toBe(token);
    const d = await client.send(new DescribeSecretCommand({ SecretId: 'test/idem' }));
    expect(Object.keys(d.VersionIdsToStages ?? {})).toEqual([token]);
    expect(d.Tags).toEqual(expect.arrayContaining([{ Key: 'managed-by', Value: 'rotor' }, { Key: 'rotor:secret', Value: 'idem' }]));
  });

  it('labels follow create, promote, retire and rollback', async () => {
    const id = 'labels';
    const v1 = { version: 1, rotationId: 'r-one-1' };
    const v2 = { version: 2, rotationId: 'r-two-2' };
    const sync = (versions: StagedVersion[]) => store.syncStages({ secretId: id, versions });
    // First rotation: Secrets Manager labels a secret's first version AWSCURRENT by itself.
    await sync([{ ...v1, stage: 'pending' }]);
    await store.putVersion({ secretId: id, ...v1, plaintext: 'one' });
    await sync([{ ...v1, stage: 'current' }]);
    expect(await labels(id, [v1])).toEqual({ 1: ['AWSCURRENT'] });

    // create v2: AWSPENDING on it, AWSCURRENT stays on v1.
    await sync([{ ...v1, stage: 'current' }, { ...v2, stage: 'pending' }]);
    await store.putVersion({ secretId: id, ...v2, plaintext: 'two' });
    expect(await labels(id, [v1, v2])).toEqual({ 1: ['AWSCURRENT'], 2: ['AWSPENDING'] });
    expect(await current(id)).toBe('one');

    // promote: AWSCURRENT moves, AWSPREVIOUS follows, AWSPENDING leaves.
    const promoted: StagedVersion[] = [{ ...v1, stage: 'previous' }, { ...v2, stage: 'current' }];
    expect((await sync(promoted)).foreign).toEqual([]);
    expect(await labels(id, [v1, v2])).toEqual({ 1: ['AWSPREVIOUS'], 2: ['AWSCURRENT'] });
    expect(await current(id)).toBe('two');
    // Idempotent.
    await sync(promoted);
    expect(await labels(id, [v1, v2])).toEqual({ 1: ['AWSPREVIOUS'], 2: ['AWSCURRENT'] });

    // rollback in grace: v1 current again, v2 pending, then failed (no labels).
    await sync([{ ...v1, stage: 'current' }, { ...v2, stage: 'pending' }]);
    expect(await labels(id, [v1, v2])).toEqual({ 1: ['AWSCURRENT'], 2: ['AWSPENDING'] });
    expect(await current(id)).toBe('one');
    await sync([{ ...v1, stage: 'current' }]);
    expect(await labels(id, [v1, v2])).toEqual({ 1: ['AWSCURRENT'], 2: [] });

    // Another rotation v3 promoted, then v1 retired: it loses every label, its value stays readable.
    const v3 = { version: 3, rotationId: 'r-three-3' };
    await store.putVersion({ secretId: id, ...v3, plaintext: 'three' });
    await sync([{ ...v1, stage: 'previous' }, { ...v3, stage: 'current' }]);
    await sync([{ ...v3, stage: 'current' }]);
    expect(await labels(id, [v1, v2, v3])).toEqual({ 1: [], 2: [], 3: ['AWSCURRENT'] });
    expect(await store.getVersion({ secretId: id, ...v1 })).toBe('one');
  });

  it('clears an AWSPENDING another rotation left stuck, and says so', async () => {
    const id = 'stuck';
    const v1 = { version: 1, rotationId: 'r-one-1' };
    await store.putVersion({ secretId: id, ...v1, plaintext: 'one' });
    await store.syncStages({ secretId: id, versions: [{ ...v1, stage: 'current' }] });
    // A Lambda rotation that died after its createSecret step.
    const lambdaToken = 'a1b2c3d4-0000-4000-8000-lambdarotation';
    await client.send(new PutSecretValueCommand({ SecretId: `test/${id}`, ClientRequestToken: lambdaToken, SecretString: 'half-made', VersionStages: ['AWSPENDING'] }));

    const v2 = { version: 2, rotationId: 'r-two-2' };
    // The next rotation starts, as every rotation does, with the store's preflight (which looks afresh).
    await store.preflight({ secretId: id });
    const { foreign } = await store.syncStages({ secretId: id, versions: [{ ...v1, stage: 'current' }, { ...v2, stage: 'pending' }] });
    expect(foreign.join('\n')).toMatch(new RegExp(`AWSPENDING was on version ${lambdaToken}.*did not write`));
    const d = await client.send(new DescribeSecretCommand({ SecretId: `test/${id}` }));
    expect(d.VersionIdsToStages?.[lambdaToken] ?? []).toEqual([]);
    // The next rotation goes on as usual.
    await store.putVersion({ secretId: id, ...v2, plaintext: 'two' });
    await store.syncStages({ secretId: id, versions: [{ ...v1, stage: 'previous' }, { ...v2, stage: 'current' }] });
    expect(await labels(id, [v1, v2])).toEqual({ 1: ['AWSPREVIOUS'], 2: ['AWSCURRENT'] });
    expect(JSON.stringify(foreign)).not.toMatch(/half-made/);
  });

  it('refuses to take over a secret Secrets Manager is scheduled to delete', async () => {
    await store.putVersion({ secretId: 'doomed', version: 1, rotationId: 'r-one-1', plaintext: 'x' });
    const { DeleteSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    await client.send(new DeleteSecretCommand({ SecretId: 'test/doomed', RecoveryWindowInDays: 7 }));
    const err = await store.preflight({ secretId: 'doomed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RotorError);
    expect((err as RotorError).outcome).toBe('usage');
    expect((err as RotorError).hint).toMatch(/restore-secret/);
  });

  it('denied calls are usage errors naming the IAM action; values never appear', () => {
    // moto enforces no IAM unless started to, and then wants an IAM client to set it up: the
    // mapping is tested on the error shapes the SDK raises.
    const denied = Object.assign(new Error('User: arn:aws:iam::123:role/rotor is not authorized to perform: secretsmanager:PutSecretValue'), { name: 'AccessDeniedException' });
    const e = awsError(denied, { action: 'PutSecretValue', resource: 'prod/db' }) as RotorError;
    expect(e).toBeInstanceOf(RotorError);
    expect(e.outcome).toBe('usage');
    expect(e.hint).toMatch(/grant secretsmanager:PutSecretValue on prod\/db/);
    const kms = Object.assign(new Error('Access to KMS is not allowed'), { name: 'AccessDeniedException' });
    expect((awsError(kms, { action: 'GetSecretValue', resource: 'prod/db', kmsKeyId: 'alias/rotor' }) as RotorError).hint).toMatch(/kms:Decrypt on alias\/rotor/);
    const creds = Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' });
    expect((awsError(creds, { action: 'DescribeSecret', resource: 'x' }) as RotorError).outcome).toBe('usage');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect((awsError(refused, { action: 'DescribeSecret', resource: 'x' }) as RotorError).outcome).toBe('rolled-back');
  });
});
