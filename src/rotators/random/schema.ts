/** rotor.yaml fields of a `random` secret: API keys, app secret keys, service tokens. */
import { z } from 'zod';

export const randomSpecSchema = z
  .strictObject({
    length: z.number().int().min(16).max(4096).default(32).describe('characters in the value, prefix excluded'),
    encoding: z.enum(['base64', 'base64url', 'hex', 'alnum']).default('base64url').describe('alphabet of the value'),
    prefix: z
      .string()
      .max(32)
      .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
      .optional()
      .describe('fixed text before the random part, e.g. sk_live_'),
  })
  .describe('a random string: API keys, app secret keys, service tokens');

export type RandomSpec = z.infer<typeof randomSpecSchema>;

export const randomValueSchema = z.string().min(1).max(8192);
