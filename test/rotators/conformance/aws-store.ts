/**
 * A conformance line with its versions in Secrets Manager (moto) instead of the local vault:
 * the same tests, plus, at every invariant check, AWSCURRENT must be the value Rotor staged
 * current — after a crash at any step boundary too, before resume.
 *
 * @example
 * const moto = motoForFile();
 * runRotatorConformance(inAwsStore(randomLine(), moto));
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { MotoHandle } from '../../helpers/servers/moto-suite.js';
import { motoMissing } from '../../helpers/servers/moto.js';
import type { ConformanceLine } from './types.js';
import type { SecretValue } from '../../../src/rotators/types.js';


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
