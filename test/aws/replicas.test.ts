/**
 * Replica regions of the aws-secrets-manager store against moto (which keeps replicas: a
 * replica shares its primary's versions, so it is always in sync): an existing secret
 * gains a configured region it lacks, AWSCURRENT is read back in the replica after promote,
 * and a failed replication is named. A replica that lags cannot be made in moto, so that
 * case uses a double for the replica region's client.
 */
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient, type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RotorError } from '../../src/errors.js';
import { SecretsManagerStore, versionToken } from '../../src/stores/aws-secrets-manager/store.js';
import type { StagedVersion } from '../../src/stores/types.js';
import { motoMissing, startMoto, type MotoServer } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the Secrets Manager replica tests: ${missing}`);

const DR = 'eu-west-1';

describe.skipIf(missing)('aws-secrets-manager replica regions (moto)', () => {
  let moto: MotoServer;
  let client: SecretsManagerClient;
  const replicas = new Map<string, SecretsManagerClient>();
  const replicaClient = async (region: string) => {
    let c = replicas.get(region);
    if (!c) replicas.set(region, (c = new SecretsManagerClient({ ...moto.clientConfig, region })));
    return c;
  };
  beforeAll(async () => {
    moto = await startMoto();
    client = new SecretsManagerClient(moto.clientConfig);
  });
  afterAll(async () => {
    client?.destroy();
    replicas.forEach((c) => c.destroy());
    await moto?.stop();
  });

  const store = (opts: Partial<ConstructorParameters<typeof SecretsManagerStore>[0]> = {}) =>
    new SecretsManagerStore({ client, prefix: 'rep/', replicaRegions: [DR], replicaClient, replicaWaitMs: 1_000, ...opts });
  const replicationOf = async (name: string) => (await client.send(new DescribeSecretCommand({ SecretId: name }))).ReplicationStatus ?? [];

  /** Two versions and a promote, as a rotation stages them; returns the promote's warnings. */
  async function rotate(s: SecretsManagerStore, id: string): Promise<string[]> {
    const v1 = { version: 1, rotationId: 'r-one-1' };
    const v2 = { version: 2, rotationId: 'r-two-2' };
    const sync = async (versions: StagedVersion[]) => (await s.syncStages({ secretId: id, versions })).warnings ?? [];
    await s.preflight({ secretId: id });
    await s.putVersion({ secretId: id, ...v1, plaintext: '"one"' });
    await sync([{ ...v1, stage: 'current' }]);
    await s.putVersion({ secretId: id, ...v2, plaintext: '"two"' });
    expect(await sync([{ ...v1, stage: 'current' }, { ...v2, stage: 'pending' }])).toEqual([]);
    return sync([{ ...v1, stage: 'previous' }, { ...v2, stage: 'current' }]);
  }

  it('adds a configured replica region to a secret that exists without it, and reads AWSCURRENT back there after promote', async () => {
    await client.send(new CreateSecretCommand({ Name: 'rep/existing', Description: 'made before the DR region was configured' }));
    expect(await replicationOf('rep/existing')).toEqual([]);

    const warnings = await rotate(store(), 'existing');
    expect(await replicationOf('rep/existing')).toEqual([expect.objectContaining({ Region: DR, Status: 'InSync' })]);
    expect(warnings).toEqual([]);
    const inDr = await (await replicaClient(DR)).send(new GetSecretValueCommand({ SecretId: 'rep/existing', VersionStage: 'AWSCURRENT' }));
    expect(inDr.VersionId).toBe(versionToken({ secretId: 'existing', version: 2, rotationId: 'r-two-2' }));
    expect(inDr.SecretString).toBe('"two"');

    // A second store (another process) neither adds the region again nor duplicates it.
    await store().preflight({ secretId: 'existing' });
    expect(await replicationOf('rep/existing')).toHaveLength(1);
  });

  it('a secret Rotor creates is replicated from the start', async () => {
    expect(await rotate(store(), 'fresh')).toEqual([]);
    expect(await replicationOf('rep/fresh')).toEqual([expect.objectContaining({ Region: DR })]);
  });

  it('a failed replication (a secret of that name already in the DR region) is a warning naming the region, not a failure', async () => {
    // Someone made the same name in the DR region by hand: Secrets Manager will not overwrite it.
    await (await replicaClient(DR)).send(new CreateSecretCommand({ Name: 'rep/clash', SecretString: 'someone-elses-value' }));
    const warnings = await rotate(store(), 'clash');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`replication of rep/clash to ${DR} failed \\(.*already exists`));
    expect(warnings.join()).not.toMatch(/someone-elses-value|"two"/);
    // Production has the new value all the same.
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'rep/clash', VersionStage: 'AWSCURRENT' }))).SecretString).toBe('"two"');
  });

  it('a replica that still serves the old version after the wait is named, with the version it serves and never a value (double)', async () => {
    // moto's replicas share their primary's versions; a lagging one is played by a double
    // that answers for the DR region with the version from before the promote.
    const old = versionToken({ secretId: 'lag', version: 1, rotationId: 'r-one-1' });
    let reads = 0;
    const lagging = {
      send: async () => {
        reads += 1;
        return { VersionId: old, SecretString: '"one"' } as GetSecretValueCommandOutput;
      },
    } as unknown as SecretsManagerClient;
    const warnings = await rotate(store({ replicaClient: async () => lagging, replicaWaitMs: 600 }), 'lag');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the replica of rep/lag in ${DR} does not serve AWSCURRENT ${versionToken({ secretId: 'lag', version: 2, rotationId: 'r-two-2' })}`);
    expect(warnings[0]).toContain(`it serves version ${old}`);
    expect(warnings[0]).not.toMatch(/"one"|"two"/);
    // It polled (asynchronous replication catches up in well under a second on AWS), within the bound.
    expect(reads).toBeGreaterThan(1);
    expect(reads).toBeLessThan(6);
  });

  it('a replica that catches up during the wait is no warning (double)', async () => {
    // The replica of a new secret does not exist yet at the first read; then it is moto's.
    let reads = 0;
    const catchingUp = {
      send: async (cmd: never) => {
        reads += 1;
        if (reads === 1) throw Object.assign(new Error('Secrets Manager can\'t find the specified secret.'), { name: 'ResourceNotFoundException' });
        return (await replicaClient(DR)).send(cmd);
      },
    } as unknown as SecretsManagerClient;
    expect(await rotate(store({ replicaClient: async () => catchingUp, replicaWaitMs: 2_000 }), 'catchup')).toEqual([]);
    // v1 (labelled AWSCURRENT by Secrets Manager itself): not found, then found; v2 after promote: found.
    expect(reads).toBe(3);
  });

  it('a denied ReplicateSecretToRegions is refused at preflight (exit 2) naming the action', async () => {
    await client.send(new CreateSecretCommand({ Name: 'rep/denied' }));
    const denying = {
      send: async (cmd: { constructor: { name: string } }) => {
        if (cmd.constructor.name === 'ReplicateSecretToRegionsCommand') {
          throw Object.assign(new Error('User: arn:aws:iam::123:role/rotor is not authorized to perform: secretsmanager:ReplicateSecretToRegions'), { name: 'AccessDeniedException' });
        }
        return client.send(cmd as never);
      },
    } as unknown as SecretsManagerClient;
    const err = await store({ client: denying }).preflight({ secretId: 'denied' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RotorError);
    expect((err as RotorError).outcome).toBe('usage');
    expect((err as RotorError).hint).toMatch(/grant secretsmanager:ReplicateSecretToRegions on rep\/denied/);
  });
});
