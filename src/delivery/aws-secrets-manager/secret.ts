/**
 * Writes keys of one Secrets Manager secret's JSON value. A write reads AWSCURRENT, sets the
 * assigned keys with the JSON editor the `json` file target uses (other keys keep their
 * bytes), and puts the result as a new version, which Secrets Manager labels AWSCURRENT.
 * Nothing is written when every key already holds its value, so a retried step is a no-op.
 *
 * The version token is left to the SDK (a fresh one per write): a token derived from the
 * content would make a rollback to an earlier value a no-op, since Secrets Manager ignores a
 * repeated token with the same value instead of making that version current again.
 */
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { awsError, awsErrorName, secretsManagerClient } from '../../aws/secrets-manager.js';
import { RotorError } from '../../errors.js';
import { jsonFile } from '../files/json-file.js';
import type { Assignment, DeliveryTarget } from '../types.js';
import type { SecretsManagerTargetConfig } from './index.js';

export async function openSecretsManagerTarget(config: SecretsManagerTargetConfig): Promise<DeliveryTarget> {
  const client = await secretsManagerClient(config);
  const { name } = config;
  const location = `Secrets Manager secret ${name}`;
  return {
    location,
    async assign({ assignments }) {
      let stored = await readCurrent(client, config);
      let next = edit(stored ?? '', assignments, location);
      if (stored !== undefined && next === stored) return { changed: false };
      if (stored === undefined) {
        if (await create(client, config, next)) return { changed: true };
        // It exists after all: made since we looked, or made without a value.
        stored = await readCurrent(client, config);
        next = edit(stored ?? '', assignments, location);
        if (stored !== undefined && next === stored) return { changed: false };
      }
      try {
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: next }));
      } catch (err) {
        throw awsError(err, { action: 'PutSecretValue', resource: name, kmsKeyId: config.kmsKeyId });
      }
      return { changed: true };
    },
    async read(key) {
      try {
        const stored = await readCurrent(client, config);
        return stored === undefined ? undefined : jsonFile.read(stored, key);
      } catch {
        return undefined;
      }
    },
  };
}

/** Creates the secret with its first value; false when it exists already. */
async function create(client: SecretsManagerClient, config: SecretsManagerTargetConfig, value: string): Promise<boolean> {
  try {
    await client.send(new CreateSecretCommand({
      Name: config.name,
      Description: 'delivered by Rotor',
      SecretString: value,
      ...(config.kmsKeyId ? { KmsKeyId: config.kmsKeyId } : {}),
      Tags: [{ Key: 'managed-by', Value: 'rotor' }, ...Object.entries(config.tags ?? {}).map(([Key, Value]) => ({ Key, Value }))],
    }));
    return true;
  } catch (err) {
    if (awsErrorName(err) === 'ResourceExistsException') return false;
    throw awsError(err, { action: 'CreateSecret', resource: config.name, kmsKeyId: config.kmsKeyId });
  }
}

/** The value labelled AWSCURRENT, or undefined when the secret does not exist (or has no value yet). */
async function readCurrent(client: SecretsManagerClient, { name, kmsKeyId }: SecretsManagerTargetConfig): Promise<string | undefined> {
  try {
    const got = await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
    if (got.SecretString === undefined && got.SecretBinary !== undefined) {
      throw new RotorError(`Secrets Manager secret ${name} holds a binary value`, {
        outcome: 'usage', hint: 'deliver into a secret whose value is a JSON object (SecretString), or name another secret; nothing was changed',
      });
    }
    return got.SecretString;
  } catch (err) {
    if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
    throw awsError(err, { action: 'GetSecretValue', resource: name, kmsKeyId });
  }
}

/** `stored` with every assignment made; a value that is not a JSON object is refused, never replaced. */
function edit(stored: string, assignments: Assignment[], location: string): string {
  try {
    return jsonFile.edit(stored, assignments);
  } catch (err) {
    throw new RotorError(`${location}: ${(err as Error).message}`, {
      outcome: 'usage', hint: 'its value must be a JSON object for Rotor to set keys in it; fix or empty it (nothing was changed)',
    });
  }
}

/**
 * Preflight: Rotor may read the secret (a denied read is exit 2 naming the action), and it is
 * not scheduled for deletion. Secrets Manager has no dry run for writes: a denied
 * PutSecretValue still shows first at the delivery, and rolls back.
 */
export async function checkSecretsManagerTarget(config: SecretsManagerTargetConfig): Promise<void> {
  const client = await secretsManagerClient(config);
  const { name } = config;
  let described;
  try {
    described = await client.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (err) {
    if (awsErrorName(err) === 'ResourceNotFoundException') return;
    throw awsError(err, { action: 'DescribeSecret', resource: name, kmsKeyId: config.kmsKeyId });
  }
  if (described.DeletedDate) {
    throw new RotorError(`Secrets Manager secret ${name} is scheduled for deletion`, {
      outcome: 'usage', hint: `restore it (aws secretsmanager restore-secret --secret-id ${name}) or deliver elsewhere; nothing was changed`,
    });
  }
  const stored = await readCurrent(client, config);
  if (stored !== undefined) edit(stored, [], `Secrets Manager secret ${name}`);
}
