/** rotor.yaml fields shared by the database and cache rotators. */
import { z } from 'zod';
import { durationSchema } from '../../config/schema.js';
import { randomString } from '../../crypto/generate.js';
import { RotorError } from '../../errors.js';
import { parseDuration } from '../../config/duration.js';

/** Login names: quoted safely everywhere, but kept to characters every server and shell handles. */
export const loginNameSchema = z
  .string()
  .min(1)
  .max(48)
  .regex(/^[A-Za-z_][A-Za-z0-9_.$-]*$/, 'a letter or _ first, then letters, digits, _ . $ and -')
  .describe('the login the rotated credential is for');

export const passwordLengthSchema = z.number().int().min(16).max(128).default(32).describe('characters in generated passwords (letters and digits)');

export const drainSchema = z
  .strictObject({
    timeout: durationSchema.default('30s').describe('how long retire waits for sessions on the old login to end'),
    onTimeout: z
      .enum(['hold', 'proceed'])
      .default('hold')
      .describe('hold: keep the old credential and report who still uses it; proceed: revoke anyway. An emergency always proceeds'),
  })
  .default({ timeout: '30s', onTimeout: 'hold' })
  .describe('drain before retire: wait for clients still logged in with the old login');

export type DrainPolicy = z.infer<typeof drainSchema>;

/** Where clients connect, when that differs from the admin URL (a proxy, a replica, a DNS name). */
export const connectSchema = {
  host: z.string().min(1).max(255).optional().describe('host clients connect to (default: the target URL host)'),
  port: z.number().int().min(1).max(65535).optional().describe('port clients connect to (default: the target URL port)'),
};

/**
 * A password as stored: printable ASCII, space included (SCRAM's SASLprep leaves such text
 * unchanged). Generated passwords are `passwordLength` letters and digits; the wider range
 * is for a password adopted from before Rotor (`rotor adopt`), which is whatever the login had.
 */
export const passwordValueSchema = z.string().min(1).max(1024).regex(/^[\x20-\x7e]+$/, 'printable ASCII');

interface LoginSpec {
  passwordLength: number;
  host?: string;
  port?: number;
}

/** The login part of a database or cache credential: who, with what, and where clients connect. */
export function newLogin(spec: LoginSpec, addr: { host: string; port: number }, username: string) {
  return existingLogin(spec, addr, username, randomString(spec.passwordLength, 'alnum'));
}

/** A login whose password already exists (an adopted one); host and port as newLogin gives them. */
function existingLogin(spec: LoginSpec, addr: { host: string; port: number }, username: string, password: string) {
  return { username, password, host: spec.host ?? addr.host, port: spec.port ?? addr.port };
}

/**
 * `rotor adopt` with a bare password: the login `username` with the password typed on stdin
 * (one trailing line end dropped: `echo` adds it, and no stored password holds one).
 * Refuses, without echoing it, a password no value of these types can hold.
 */
export function adoptedLogin(spec: LoginSpec, addr: { host: string; port: number }, username: string, input: string) {
  const password = input.replace(/\r?\n$/, '');
  if (!passwordValueSchema.safeParse(password).success) {
    throw new RotorError(`the password given for ${username} cannot be adopted: it must be 1 to 1024 printable ASCII characters (letters, digits, punctuation, space)`, {
      outcome: 'usage', hint: 'pipe the password alone on stdin, e.g. `printf %s "$OLD_PASSWORD" | rotor adopt <id>`; a password with other characters must be rotated without adoption',
    });
  }
  return existingLogin(spec, addr, username, password);
}

/**
 * alternating: of the two logins `name` and `name_clone`, the one `user` is not. The next
 * rotation sets its password; retire revokes it. The first rotation (nothing stored, or
 * `name` adopted) fills the clone, so services keep the password they run on today until
 * they are given the new one.
 */
export const otherLogin = (name: string, user: string | undefined): string => (user === `${name}_clone` ? name : `${name}_clone`);

/** RotatorDefinition.waits of a type that drains sessions before retire: the drain's timeout. */
export const drainWaits = (spec: { drain: { timeout: string } }) => ({ retire: parseDuration(spec.drain.timeout) ?? 0 });
