/**
 * The aws-secrets-manager store against real AWS, only when asked: ROTOR_TEST_AWS=1 and
 * credentials in the SDK's default chain (AWS_PROFILE or AWS_ACCESS_KEY_ID…), region from
 * AWS_REGION. It creates one secret under `rotor-test/<random>/`, rotates it through the
 * binary and schedules it for deletion (7 days, the shortest recovery window).
 */
import { randomBytes } from 'node:crypto';
import { DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const wanted = process.env.ROTOR_TEST_AWS === '1';
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
const why = !wanted
  ? 'set ROTOR_TEST_AWS=1, AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION to run it'
  : !region ? 'ROTOR_TEST_AWS=1 needs AWS_REGION as well' : undefined;
if (why) console.warn(`skipping the real AWS Secrets Manager test: ${why}`);

describe.skipIf(why)('aws-secrets-manager store against real AWS', () => {
  const prefix = `rotor-test/${randomBytes(6).toString('hex')}/`;
  const name = `${prefix}app/key`;
  const client = new SecretsManagerClient({ region });
  const sb = new Sandbox([
    'version: 1',
    'stores:',
    `  aws: { type: aws-secrets-manager, region: ${region}, prefix: ${prefix} }`,
    'secrets:',
    '  - { id: app/key, type: random, length: 32, store: aws, grace: 1h }',
    '',
  ].join('\n'));
  afterAll(async () => {
    await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 })).catch(() => undefined);
    client.destroy();
    sb.remove();
  });

  it('rotates, AWSCURRENT follows, rollback moves it back', async () => {
    const awsCurrent = async () => (await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }))).SecretString;
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/key']);
    const v1 = (await sb.ok(['get', 'app/key'])).stdout.trim();
    expect(await awsCurrent()).toBe(JSON.stringify(v1));
    await sb.ok(['rotate', 'app/key']);
    const v2 = (await sb.ok(['get', 'app/key'])).stdout.trim();
    expect(await awsCurrent()).toBe(JSON.stringify(v2));
    await sb.ok(['rollback', 'app/key']);
    expect(await awsCurrent()).toBe(JSON.stringify(v1));
    const d = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(Object.values(d.VersionIdsToStages ?? {}).filter((l) => l.length).map((l) => [...l].sort().join('+'))).toEqual(['AWSCURRENT']);
  }, 120_000);
});
