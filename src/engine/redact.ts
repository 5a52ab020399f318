/**
 * Defense in depth for "no secret in any message": every value Rotor generates or reads is
 * registered here, and every error text that leaves the engine (step records, audit
 * details, terminal output) passes through `redact`. Errors from drivers sometimes echo
 * what they were given; this is where that stops.
 */
import type { RotorConfig } from '../config/schema.js';
import type { Json, SecretValue } from '../rotators/types.js';

const MIN_LENGTH = 6;
const NOT_SECRET = /^(username|user|host|port|database|kid|alg|algorithm|primary|id|kty|use|crv)$/i;

export class Redactor {
  private readonly known = new Set<string>();

  /** Registers every secret string in `value`, however deeply nested (key sets hold arrays of keys). */
  register(value: SecretValue | Json): void {
    if (typeof value === 'string') {
      if (value.length < MIN_LENGTH) return;
      this.known.add(value);
      // Inside JSON (a structured value on stdin, echoed back) quotes and backslashes are escaped.
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) this.known.add(escaped);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) this.register(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, field] of Object.entries(value)) {
      // Names, addresses and key ids are not secret, and redacting them would garble messages.
      if (typeof field === 'string' && NOT_SECRET.test(key)) continue;
      this.register(field);
    }
  }

  redact(text: string): string {
    let out = text;
    for (const value of this.known) if (out.includes(value)) out = out.split(value).join('[REDACTED]');
    return out;
  }
}

/**
 * A redactor that already knows the admin passwords in `targets`: a driver error may echo
 * the URL it was given.
 */
export function newRedactor(config: Pick<RotorConfig, 'targets'>): Redactor {
  const redactor = new Redactor();
  for (const target of Object.values(config.targets)) {
    try {
      const password = decodeURIComponent(new URL(target.url).password);
      if (password) redactor.register(password);
    } catch {
      // Not a URL: the rotator reports that, without echoing it.
    }
  }
  return redactor;
}
