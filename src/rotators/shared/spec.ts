/** rotor.yaml fields shared by the database and cache rotators. */
import { z } from 'zod';
import { durationSchema } from '../../config/schema.js';
import { randomString } from '../../crypto/generate.js';

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

/** A generated password as stored: printable ASCII (SCRAM's SASLprep leaves it unchanged). */
export const passwordValueSchema = z.string().min(16).max(128).regex(/^[\x21-\x7e]+$/);

/** The login part of a database or cache credential: who, with what, and where clients connect. */
export function newLogin(spec: { passwordLength: number; host?: string; port?: number }, addr: { host: string; port: number }, username: string) {
  return { username, password: randomString(spec.passwordLength, 'alnum'), host: spec.host ?? addr.host, port: spec.port ?? addr.port };
}
