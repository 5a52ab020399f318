/** Flag parsing on node:util parseArgs: strict, so a typo is exit 2 before anything runs. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export function parse<O extends Options>(args: string[], options: O, usage: string) {
  try {
    const parsed = parseArgs<{ args: string[]; options: typeof COMMON & O; allowPositionals: true; strict: true }>({
      args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true,
    });
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(`${usage}\n`);
      return undefined;
    }
    return parsed;
  } catch (err) {
    throw new UsageError((err as Error).message, `usage: ${usage}`);
  }
}

export function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** Free text that ends up in the audit log: bounded, one line. */
export function textFlag(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  if (value.length > 500 || /[\r\n]/.test(value)) throw new UsageError(`--${name} must be one line of at most 500 characters`);
  return value;
}
