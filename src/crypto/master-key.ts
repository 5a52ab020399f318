/**
 * Where the master key comes from, and the keys derived from it.
 *
 * Order: ROTOR_MASTER_KEY (base64 of 32 bytes), then the file named by
 * ROTOR_MASTER_KEY_FILE, then `.rotor/master.key` (written by `rotor init`, mode 0600).
 * Every purpose gets its own HKDF-derived key, so a key used for fingerprints can never
 * decrypt the vault, and the master key itself never touches data.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { MasterKeyError } from '../errors.js';

export const MASTER_KEY_BYTES = 32;

export interface DerivedKeys {
  /** AES-256-GCM key for vault files. */
  vault: Buffer;
  /** HMAC key for the keyed fingerprints stored as metadata. */
  fingerprint: Buffer;
  /** HMAC key of the audit chain: without the master key, nobody can rewrite it and recompute it. */
  audit: Buffer;
  /** HMAC key of exported audit checkpoints. */
  checkpoint: Buffer;
  /** AES-256-GCM key of the copies a delivery keeps of the file it replaced (backup/delivery-backups.ts). */
  deliveryBackup: Buffer;
  /** A public, non-secret id of the master key, to tell "wrong key" from "damaged data". */
  keyId: string;
}

export interface MasterKeySource {
  env: NodeJS.ProcessEnv;
  /** `.rotor/master.key` of the working directory, used when the environment names none. */
  defaultFile: string;
}

export function newMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

export function encodeMasterKey(key: Buffer): string {
  return key.toString('base64');
}

export function loadMasterKey(src: MasterKeySource): Buffer {
  const fromEnv = src.env.ROTOR_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv !== '') return decode(fromEnv, 'ROTOR_MASTER_KEY');
  const file = src.env.ROTOR_MASTER_KEY_FILE || src.defaultFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MasterKeyError(
      `no master key: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'set ROTOR_MASTER_KEY (base64, 32 bytes) or ROTOR_MASTER_KEY_FILE, or run `rotor init` to create .rotor/master.key',
    );
  }
  warnIfReadableByOthers(file);
  return decode(text.trim(), file);
}

function decode(text: string, origin: string): Buffer {
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (key.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(
      `the master key from ${origin} is not ${MASTER_KEY_BYTES} bytes of base64`,
      'generate one with `openssl rand -base64 32` or run `rotor init`',
    );
  }
  return key;
}

/** Warns (never fails) when a key file is readable by group or others: chmod 600 is the fix. */
export function warnIfReadableByOthers(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      process.stderr.write(`rotor: warning: ${file} is readable by other users; run chmod 600 ${file}\n`);
    }
  } catch {
    // The read above succeeded; a failing stat is not worth failing the command for.
  }
}

export function deriveKeys(master: Buffer): DerivedKeys {
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `rotor/${purpose}/v1`, 32));
  const keyId = createHash('sha256').update(derive('key-id')).digest('base64url').slice(0, 16);
  return {
    vault: derive('vault'), fingerprint: derive('fingerprint'), audit: derive('audit'), checkpoint: derive('audit-checkpoint'), deliveryBackup: derive('delivery-backup'), keyId,
  };
}
