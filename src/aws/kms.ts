/**
 * Rotor's master key wrapped by AWS KMS (envelope encryption, as demo-platform's runbook
 * keeps its "KMS data keys"): the 32-byte key lives on disk only as KMS ciphertext, and each
 * command asks KMS to unwrap it. A stolen disk or backup then holds nothing usable without
 * the role's kms:Decrypt. The encryption context binds the ciphertext to its purpose, so a
 * ciphertext made for something else under the same key is refused by KMS.
 *
 * @example
 * // rotor.yaml
 * // masterKey: { kms: { keyId: alias/rotor, ciphertextFile: .rotor/master.key.kms } }
 * const key = await unwrapMasterKey(config.masterKey.kms);
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { RotorError, TargetUnreachableError } from '../errors.js';
import { awsFailure, awsHttpOptions, CREDENTIALS_HINT, endpointSchema, regionSchema } from './secrets-manager.js';

const CONTEXT = { purpose: 'rotor-master-key' };

export const kmsMasterKeySchema = z
  .strictObject({
    keyId: z.string().min(1).max(2048).describe('the KMS key (id, ARN or alias/…) that wraps the master key'),
    ciphertextFile: z
      .string()
      .min(1)
      .max(4096)
      .default('.rotor/master.key.kms')
      .describe('the wrapped master key (base64 KMS ciphertext), relative to rotor.yaml; `rotor init --kms KEY` writes it'),
    region: regionSchema.optional().describe('the key\'s region; default: the SDK\'s (AWS_REGION, the profile)'),
    endpoint: endpointSchema,
  })
  .describe('keep the master key wrapped by AWS KMS (envelope encryption)');

export type KmsMasterKeyConfig = z.infer<typeof kmsMasterKeySchema>;

async function client(config: Pick<KmsMasterKeyConfig, 'region' | 'endpoint'>): Promise<KMSClient> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { KMSClient: Client } = await import('@aws-sdk/client-kms');
  return new Client({ ...(config.region ? { region: config.region } : {}), ...(config.endpoint ? { endpoint: config.endpoint } : {}), ...awsHttpOptions() });
}

/** A KMS error as a Rotor error: denied or unauthenticated is exit 2 naming the action to grant. */
function kmsError(err: unknown, action: string, keyId: string): Error {
  if (err instanceof RotorError) return err;
  const { kind, name, said, reason } = awsFailure(err);
  if (kind === 'denied') {
    return new RotorError(`KMS ${action} with ${keyId} was denied: ${said}`, { outcome: 'usage', hint: `grant kms:${action} on ${keyId} to Rotor's role${action === 'Decrypt' ? ', and check that the ciphertext file was made with this key' : ''}; nothing was changed`, cause: err });
  }
  if (kind === 'credentials') return new RotorError(`KMS ${action}: AWS did not accept Rotor's credentials (${name})`, { outcome: 'usage', hint: CREDENTIALS_HINT, cause: err });
  if (kind === 'unreachable') return new TargetUnreachableError(`KMS ${action}: the endpoint could not be reached (${reason})`, err);
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
    return new RotorError(`KMS cannot unwrap the master key with ${keyId} (${name})`, {
      outcome: 'usage', hint: 'the ciphertext file was made with another KMS key or for another purpose, or is damaged; restore it from backup, or name the key it was made with; nothing was changed', cause: err,
    });
  }
  if (['NotFoundException', 'DisabledException', 'KMSInvalidStateException', 'InvalidKeyUsageException'].includes(name)) {
    return new RotorError(`KMS key ${keyId} cannot be used (${name}): ${said}`, { outcome: 'usage', hint: 'check that the key exists, is enabled, and is a symmetric encryption key; nothing was changed', cause: err });
  }
  if (name === 'Error' && /region/i.test(said)) {
    return new RotorError(`KMS ${action}: no AWS region`, { outcome: 'usage', hint: 'set masterKey.kms.region in rotor.yaml or AWS_REGION', cause: err });
  }
  return new RotorError(`KMS ${action} with ${keyId} failed (${name}): ${said}`, { outcome: 'usage', hint: 'nothing was changed', cause: err });
}

/** Unwraps a master key; `ciphertext` is what `wrapMasterKey` or `newWrappedMasterKey` returned. */
export async function unwrapMasterKey(config: KmsMasterKeyConfig, ciphertext: Buffer): Promise<Buffer> {
  const kms = await client(config);
  try {
    const { DecryptCommand } = await import('@aws-sdk/client-kms');
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, KeyId: config.keyId, EncryptionContext: CONTEXT }));
    if (!out.Plaintext) throw new RotorError('KMS returned no plaintext for the master key', { outcome: 'usage', hint: 'check the key and the ciphertext file' });
    return Buffer.from(out.Plaintext);
  } catch (err) {
    throw kmsError(err, 'Decrypt', config.keyId);
  } finally {
    kms.destroy();
  }
}

/** A new 32-byte master key from KMS, and its ciphertext (GenerateDataKey: the key never leaves KMS unwrapped but to us). */
export async function newWrappedMasterKey(config: KmsMasterKeyConfig): Promise<{ key: Buffer; ciphertext: Buffer }> {
  const kms = await client(config);
  try {
    const { GenerateDataKeyCommand } = await import('@aws-sdk/client-kms');
    const out = await kms.send(new GenerateDataKeyCommand({ KeyId: config.keyId, KeySpec: 'AES_256', EncryptionContext: CONTEXT }));
    if (!out.Plaintext || !out.CiphertextBlob) throw new RotorError('KMS returned no data key', { outcome: 'usage', hint: 'check the key' });
    return { key: Buffer.from(out.Plaintext), ciphertext: Buffer.from(out.CiphertextBlob) };
  } catch (err) {
    throw kmsError(err, 'GenerateDataKey', config.keyId);
  } finally {
    kms.destroy();
  }
}

/** Wraps an existing master key (moving a project's plaintext key under KMS). */
export async function wrapMasterKey(config: KmsMasterKeyConfig, key: Buffer): Promise<Buffer> {
  const kms = await client(config);
  try {
    const { EncryptCommand } = await import('@aws-sdk/client-kms');
    const out = await kms.send(new EncryptCommand({ KeyId: config.keyId, Plaintext: key, EncryptionContext: CONTEXT }));
    if (!out.CiphertextBlob) throw new RotorError('KMS returned no ciphertext', { outcome: 'usage', hint: 'check the key' });
    return Buffer.from(out.CiphertextBlob);
  } catch (err) {
    throw kmsError(err, 'Encrypt', config.keyId);
  } finally {
    kms.destroy();
  }
}
