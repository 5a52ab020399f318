/**
 * The master key a project uses, wherever it comes from: ROTOR_MASTER_KEY first (a
 * break-glass override that also works while KMS is unreachable), then KMS when rotor.yaml
 * has `masterKey.kms`, then ROTOR_MASTER_KEY_FILE and `.rotor/master.key`. With KMS
 * configured the plaintext files are never read, so a stale `.rotor/master.key` left on disk
 * cannot silently win over the wrapped key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RotorConfig } from '../config/schema.js';
import { loadMasterKey, MASTER_KEY_BYTES, warnIfReadableByOthers } from '../crypto/master-key.js';
import { MasterKeyError } from '../errors.js';

export function defaultMasterKeyFile(config: RotorConfig): string {
  return join(config.dir, '.rotor', 'master.key');
}

export interface MasterKeyOrigin {
  key: Buffer;
  /** For messages: ROTOR_MASTER_KEY, a file path, or `KMS alias/… (file)`. */
  source: string;
}

const unwrapped = new Map<string, Promise<Buffer>>();

export async function masterKeyOf(config: RotorConfig): Promise<MasterKeyOrigin> {
  const env = process.env.ROTOR_MASTER_KEY;
  const kms = config.masterKey?.kms;
  if (kms && (env === undefined || env === '')) {
    let text: string;
    try {
      text = readFileSync(kms.ciphertextFile, 'utf8').trim();
    } catch (err) {
      throw new MasterKeyError(
        `no master key: the KMS-wrapped key ${kms.ciphertextFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        'restore it from backup, or run `rotor init --kms KEY` in a new project; ROTOR_MASTER_KEY overrides it in an emergency',
      );
    }
    const ciphertext = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (ciphertext.length < 16) throw new MasterKeyError(`${kms.ciphertextFile} is not a KMS ciphertext (base64)`, 'restore it from backup; nothing was changed');
    // One KMS call per process and ciphertext: the daemon opens an engine per batch and API call.
    const cacheKey = `${kms.keyId}\0${kms.region ?? ''}\0${kms.endpoint ?? ''}\0${text}`;
    let unwrapping = unwrapped.get(cacheKey);
    if (!unwrapping) {
      // Useless without kms:Decrypt, but a copy is one permission away from the key.
      warnIfReadableByOthers(kms.ciphertextFile);
      unwrapping = import('../aws/kms.js').then(({ unwrapMasterKey }) => unwrapMasterKey(kms, ciphertext));
      unwrapped.set(cacheKey, unwrapping);
      unwrapping.catch(() => unwrapped.delete(cacheKey));
    }
    const key = await unwrapping;
    if (key.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`the key KMS unwrapped from ${kms.ciphertextFile} is not ${MASTER_KEY_BYTES} bytes`, 'restore the file from backup; nothing was changed');
    return { key, source: `KMS ${kms.keyId} (${kms.ciphertextFile})` };
  }
  const file = process.env.ROTOR_MASTER_KEY_FILE || defaultMasterKeyFile(config);
  return { key: loadMasterKey({ env: process.env, defaultFile: defaultMasterKeyFile(config) }), source: env ? 'ROTOR_MASTER_KEY' : file };
}
