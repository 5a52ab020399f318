/**
 * A conformance line with its versions in Secrets Manager (moto) instead of the local vault:
 * the same tests, plus, at every invariant check, AWSCURRENT must be the value Rotor staged
 * current — after a crash at any step boundary too, before resume.
 *
 * @example
 * const moto = motoForFile();
 * runRotatorConformance(inAwsStore(randomLine(), moto));
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll } from 'vitest';
import { motoMissing, startMoto, type MotoServer } from '../../helpers/servers/moto.js';
import type { ConformanceLine } from './types.js';
import type { SecretValue } from '../../../src/rotators/types.js';

export interface MotoHandle {
  server(): MotoServer;
  client(): SecretsManagerClient;
}

/** One moto for the test file, started before its tests. */
export function motoForFile(): MotoHandle {
  let moto: MotoServer | undefined;
  let client: SecretsManagerClient | undefined;
  beforeAll(async () => {
    if (motoMissing()) return;
    moto = await startMoto();
    client = new SecretsManagerClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  const need = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('moto did not start');
    return x;
  };
  return { server: () => need(moto), client: () => need(client) };
}

/**
 * Each line and test (each login) its own prefix, so concurrent tests never share a Secrets
 * Manager secret: two lines with the same logins are two Rotor projects, which the store
 * refuses to let share one.
 */
const prefixOf = (line: string, login: string) => `conf/${line.replace(/[^A-Za-z0-9]+/g, '-')}/${login}/`;

export function inAwsStore<V extends SecretValue>(line: ConformanceLine<V>, moto: MotoHandle): ConformanceLine<V> {
  const missing = motoMissing();
  return {
    ...line,
    name: `${line.name}, versions in aws-secrets-manager`,
    ...(line.skip || missing ? { skip: line.skip ?? missing } : {}),
    versionStore: {
      entry: (login) => `{ type: aws-secrets-manager, region: ${moto.server().region}, prefix: "${prefixOf(line.name, login)}", endpoint: "\${MOTO_ENDPOINT}" }`,
      env: () => ({ ...moto.server().env, MOTO_ENDPOINT: moto.server().endpoint }),
      async current(login, secretId) {
        try {
          const got = await moto.client().send(new GetSecretValueCommand({ SecretId: `${prefixOf(line.name, login)}${secretId}`, VersionStage: 'AWSCURRENT' }));
          return got.SecretString;
        } catch (err) {
          if ((err as Error).name === 'ResourceNotFoundException') return undefined;
          throw err;
        }
      },
    },
  };
}
