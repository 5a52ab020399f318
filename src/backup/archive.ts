/**
 * The backup file: every stored version of every secret, encrypted under a key that is not
 * the master key (a passphrase through scrypt, or a 32-byte key file), so a backup survives
 * the loss of the machine and its master key alike.
 *
 *   RTBK1\n
 *   <header JSON>\n      format, creation time, KDF and salt, nonce, and a key check
 *   <base64 of AES-256-GCM(archive JSON) ‖ tag>\n      the header is the associated data
 *
 * The key check (an HMAC under the derived key) tells a wrong passphrase (exit 2) from a
 * damaged file (the GCM tag fails: exit 3), and neither is ever half-restored.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { IntegrityError, MasterKeyError } from '../errors.js';

const scryptAsync = promisify(scrypt) as (password: string | Buffer, salt: Buffer, keylen: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const MAGIC = 'RTBK1\n';
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

export type BackupSecret = { passphrase: string } | { keyFile: Buffer };

const headerSchema = z.strictObject({
  format: z.literal('rotor-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  kdf: z.discriminatedUnion('name', [
    z.strictObject({ name: z.literal('scrypt'), N: z.number().int(), r: z.number().int(), p: z.number().int(), salt: z.string() }),
    z.strictObject({ name: z.literal('key-file') }),
  ]),
  nonce: z.string(),
  check: z.string(),
});

export const archiveSchema = z.strictObject({
  secrets: z.array(z.strictObject({
    id: z.string(),
    versions: z.array(z.strictObject({
      version: z.number().int().min(1),
      stage: z.enum(['pending', 'current', 'previous', 'retired', 'failed']),
      createdAt: z.number(),
      stageChangedAt: z.number(),
      rotationId: z.string(),
      /** The stored text of the value (JSON), as the vault holds it. */
      value: z.string(),
    })),
  })),
});

export type Archive = z.infer<typeof archiveSchema>;

async function deriveKey(secret: BackupSecret, kdf: z.infer<typeof headerSchema>['kdf']): Promise<Buffer> {
  if (kdf.name === 'key-file') {
    if (!('keyFile' in secret)) throw new MasterKeyError('this backup was made with a key file', 'give it with --key-file');
    if (secret.keyFile.length !== 32) throw new MasterKeyError('the backup key file must hold exactly 32 bytes', 'make one with `head -c 32 /dev/urandom > backup.key`');
    return secret.keyFile;
  }
  if (!('passphrase' in secret)) throw new MasterKeyError('this backup was made with a passphrase', 'set ROTOR_BACKUP_PASSPHRASE or give --passphrase-file');
  return scryptAsync(secret.passphrase, Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * 1024 * 1024 });
}

const keyCheck = (key: Buffer) => createHmac('sha256', key).update('rotor-backup key check').digest();

export async function sealArchive(archive: Archive, secret: BackupSecret, now = new Date()): Promise<Buffer> {
  const kdf = 'keyFile' in secret ? { name: 'key-file' as const } : { name: 'scrypt' as const, ...SCRYPT, salt: randomBytes(16).toString('base64') };
  const key = await deriveKey(secret, kdf);
  const nonce = randomBytes(12);
  const header = JSON.stringify({ format: 'rotor-backup', version: 1, createdAt: now.toISOString(), kdf, nonce: nonce.toString('base64'), check: keyCheck(key).toString('base64') });
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(header));
  const body = Buffer.concat([c.update(JSON.stringify(archive)), c.final(), c.getAuthTag()]);
  return Buffer.from(`${MAGIC}${header}\n${body.toString('base64')}\n`);
}

export async function openArchive(file: string, bytes: Buffer, secret: BackupSecret): Promise<{ archive: Archive; createdAt: string }> {
  const text = bytes.toString('utf8');
  const damaged = (why: string, cause?: unknown) => new IntegrityError(file, `not a usable Rotor backup: ${why}`, cause);
  if (!text.startsWith(MAGIC)) throw damaged('it does not start with the RTBK1 header');
  const [headerText, bodyText, rest] = text.slice(MAGIC.length).split('\n');
  if (headerText === undefined || bodyText === undefined || (rest !== undefined && rest !== '')) throw damaged('its layout is broken (truncated or joined?)');
  let header: z.infer<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(headerText));
  } catch (err) {
    throw damaged('its header is unreadable', err);
  }
  const key = await deriveKey(secret, header.kdf);
  const expected = Buffer.from(header.check, 'base64');
  const actual = keyCheck(key);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new MasterKeyError(`${file}: wrong ${header.kdf.name === 'scrypt' ? 'passphrase' : 'key file'} for this backup`, 'use the passphrase or key file the backup was made with; nothing was restored');
  }
  const body = Buffer.from(bodyText, 'base64');
  if (body.length < 16) throw damaged('its body is truncated');
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(header.nonce, 'base64'));
    d.setAAD(Buffer.from(headerText));
    d.setAuthTag(body.subarray(body.length - 16));
    plain = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
  } catch (err) {
    throw damaged('its contents were changed or cut (authentication failed)', err);
  }
  return { archive: archiveSchema.parse(JSON.parse(plain.toString('utf8'))), createdAt: header.createdAt };
}
