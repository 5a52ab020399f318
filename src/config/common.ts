/**
 * Field schemas shared by rotor.yaml's sections and by the pluggable kinds that bring
 * their own schema (version stores, delivery targets, reload and health kinds). A leaf
 * module: schema.ts imports the registries, which import this, never schema.ts.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A name under `stores`, `targets` or `consumers`. */
export const nameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . and -, starting with a letter or digit');

export const secretIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[a-z0-9][a-z0-9_.-]*(\/[a-z0-9][a-z0-9_.-]*)*$/,
    'lower-case path segments of letters, digits, _ . and - separated by /, like database/primary',
  );

export const durationSchema = z
  .string()
  .max(16)
  .refine((s) => parseDuration(s) !== undefined, 'not a duration: write it like 30s, 15m, 24h or 90d')
  .describe('a duration like 30s, 15m, 24h, 90d');

/** A file path in rotor.yaml; relative ones resolve against its directory. */
export const pathSchema = z.string().min(1).max(4096);

/** `HOST:PORT` (an IPv6 host in brackets) as host and port, or undefined when it is not one. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}
