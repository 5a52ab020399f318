/**
 * How values cross the store boundary: serialized as JSON, validated by the rotator's
 * value schema on the way back, fingerprinted with the keyed fingerprint.
 */
import { fingerprint } from '../crypto/fingerprint.js';
import { IntegrityError, NotFoundError } from '../errors.js';
import type { SecretValue } from '../rotators/types.js';
import type { VersionStore } from '../stores/types.js';
import type { Redactor } from './redact.js';
import type { EngineDeps } from './context.js';
import type { SecretConfig } from '../config/schema.js';
import type { z } from 'zod';

export interface ValueAccess {
  store: VersionStore;
  fingerprintKey: Buffer;
  valueSchema: z.ZodType<SecretValue>;
  redactor: Redactor;
}

export const serialize = (value: SecretValue): string => JSON.stringify(value);

export function fingerprintOf(access: ValueAccess, secretId: string, value: SecretValue): string {
  return fingerprint(access.fingerprintKey, secretId, serialize(value));
}

/** How the engine reaches the values of `secret`: its store, its type's value schema, the keys. */
export function valueAccess(deps: EngineDeps, secret: SecretConfig): ValueAccess {
  return { store: deps.storeFor(secret), fingerprintKey: deps.fingerprintKey, valueSchema: deps.definitionOf(secret).valueSchema, redactor: deps.redactor };
}

/** Reads a version and checks it is the value the state store recorded. */
export async function readVersion(
  access: ValueAccess, row: { secretId: string; version: number; rotationId: string; fingerprint?: string },
): Promise<SecretValue> {
  const { secretId, version } = row;
  const text = await access.store.getVersion({ secretId, version, rotationId: row.rotationId });
  if (text === undefined) {
    throw new NotFoundError(`${secretId} v${version} is not in the ${access.store.kind} store`, 'restore the store from a backup (`rotor history` lists versions)');
  }
  return parseStored(access, secretId, version, text, row.fingerprint);
}

/** Turns stored text back into a value: shape checked, registered for redaction, fingerprint compared. */
export function parseStored(access: ValueAccess, secretId: string, version: number, text: string, expectedFingerprint?: string): SecretValue {
  let value: SecretValue;
  try {
    value = access.valueSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new IntegrityError(`${secretId} v${version}`, 'stored value does not have the shape of its type', err);
  }
  access.redactor.register(value);
  if (expectedFingerprint !== undefined && fingerprintOf(access, secretId, value) !== expectedFingerprint) {
    throw new IntegrityError(`${secretId} v${version}`, 'stored value does not match the fingerprint recorded in the state database');
  }
  return value;
}
