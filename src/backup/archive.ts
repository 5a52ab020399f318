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

/**
 * scrypt costs a reader pays before it can tell a wrong passphrase from a forged header:
 * bounded, so a hostile header cannot make `backup verify` run for minutes or exhaust memory.
 */
const scryptParams = z
  .strictObject({
    name: z.literal('scrypt'),
    N: z.number().int().min(1 << 14).max(1 << 20).refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
    r: z.number().int().min(1).max(16),
    p: z.number().int().min(1).max(4),
    salt: z.string().max(64),
  })
  .refine((k) => 128 * k.N * k.r * k.p <= 256 * 1024 * 1024, 'scrypt parameters need more than 256 MiB');

const headerSchema = z.strictObject({
  format: z.literal('rotor-backup'),
  version: z.union([z.literal(1), z.literal(2)]),
  createdAt: z.string().max(40),
  kdf: z.union([scryptParams, z.strictObject({ name: z.literal('key-file') })]),
  nonce: z.string().max(32),
  check: z.string().max(64),
});

/** A rotation still open when the backup was made, so `resume` and `retire` can finish it after a restore. */
const openRotationSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  trigger: z.enum(['manual', 'schedule', 'emergency', 'api']),
  reason: z.string().max(500).nullable(),
  incident: z.string().max(500).nullable(),
  actor: z.string().max(200),
  status: z.enum(['running', 'grace', 'rolling-back']),
  fromVersion: z.number().int().min(1).nullable(),
  toVersion: z.number().int().min(1),
  graceMs: z.number().int().min(0),
  step: z.enum(['create', 'apply', 'verify', 'promote', 'propagate', 'retire']).nullable(),
  phase: z.enum(['started', 'done', 'failed']).nullable(),
  retireAfter: z.number().nullable(),
  startedAt: z.number(),
  error: z.string().max(100_000).nullable(),
});

export const archiveSchema = z.strictObject({
  secrets: z.array(z.strictObject({
    id: z.string().min(1).max(200),
    versions: z.array(z.strictObject({
      version: z.number().int().min(1),
      stage: z.enum(['pending', 'current', 'previous', 'retired', 'failed']),
      createdAt: z.number(),
      stageChangedAt: z.number(),
      rotationId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      /** The stored text of the value (JSON), as the vault holds it. */
      value: z.string(),
    })),
    /** Open rotations (archives from before version 2 have none). */
    rotations: z.array(openRotationSchema).default([]),
  })),
});

export type OpenRotation = z.infer<typeof openRotationSchema>;

/**
 * What an authentic archive may still get wrong: stages that contradict each other, a
 * version twice, a value that is not stored text, a rotation naming versions it lacks.
 */
export function archiveProblems(archive: Archive): string[] {
  const problems: string[] = [];
  for (const s of archive.secrets) {
    const numbers = s.versions.map((v) => v.version);
    const dup = numbers.find((n, i) => numbers.indexOf(n) !== i);
    if (dup !== undefined) problems.push(`${s.id}: version ${dup} appears twice`);
    for (const stage of ['current', 'previous', 'pending'] as const) {
      const n = s.versions.filter((v) => v.stage === stage).length;
      if (n > 1) problems.push(`${s.id}: ${n} versions are staged ${stage}`);
    }
    if (s.versions.length && !s.versions.some((v) => v.stage === 'current') && s.versions.some((v) => v.stage === 'previous')) {
      problems.push(`${s.id}: a previous version without a current one`);
    }
    for (const v of s.versions) {
      try {
        JSON.parse(v.value);
      } catch {
        problems.push(`${s.id} v${v.version}: its value is not stored text`);
      }
    }
    for (const r of s.rotations) {
      for (const n of [r.fromVersion, r.toVersion]) if (n !== null && !numbers.includes(n)) problems.push(`${s.id}: open rotation ${r.id} names v${n}, which is not in the backup`);
    }
  }
  return problems;
}

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
  const header = JSON.stringify({ format: 'rotor-backup', version: 2, createdAt: now.toISOString(), kdf, nonce: nonce.toString('base64'), check: keyCheck(key).toString('base64') });
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
  let archive: Archive;
  try {
    archive = archiveSchema.parse(JSON.parse(plain.toString('utf8')));
  } catch (err) {
    throw damaged('it is authentic, but its contents are not laid out as a Rotor backup (made by another tool or version?)', err);
  }
  const problems = archiveProblems(archive);
  if (problems.length) throw damaged(`it is authentic, but contradicts itself: ${problems.slice(0, 5).join('; ')}`);
  return { archive, createdAt: header.createdAt };
}
