/**
 * SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677), computed here so that the plaintext
 * password never travels in SQL: `ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'` stores the
 * verifier as given, and statement logs on the server hold nothing a client could log in
 * with. The format is PostgreSQL's own:
 *   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's default `scram_iterations`. */
export const SCRAM_ITERATIONS = 4096;

export async function scramVerifier(password: string, opts: { iterations?: number; salt?: Buffer } = {}): Promise<string> {
  // SASLprep maps and normalizes non-ASCII text (non-ASCII spaces among it); printable
  // ASCII, the ASCII space included, it leaves unchanged, so refusing anything else keeps
  // client and server in step.
  if (!/^[\x20-\x7e]+$/.test(password)) throw new Error('SCRAM verifier: password must be printable ASCII');
  const iterations = opts.iterations ?? SCRAM_ITERATIONS;
  const salt = opts.salt ?? randomBytes(16);
  // Off the main thread (libuv pool), so many rotations at once do not stall the event loop.
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
