/**
 * Defense in depth for "no secret in any message": every value Rotor generates or reads is
 * registered here, and every error text that leaves the engine (step records, audit
 * details, terminal output) passes through `redact`. Errors from drivers sometimes echo
 * what they were given; this is where that stops.
 */
import type { SecretValue } from '../rotators/types.js';

const MIN_LENGTH = 6;

export class Redactor {
  private readonly known = new Set<string>();

  register(value: SecretValue): void {
    if (typeof value === 'string') {
      if (value.length >= MIN_LENGTH) this.known.add(value);
      return;
    }
    for (const [key, field] of Object.entries(value)) {
      // Usernames, hosts and ports are not secret and redacting them would garble messages.
      if (typeof field === 'string' && field.length >= MIN_LENGTH && !/^(username|user|host|port|database|kid|alg|algorithm)$/i.test(key)) {
        this.known.add(field);
      }
    }
  }

  redact(text: string): string {
    let out = text;
    for (const value of this.known) if (out.includes(value)) out = out.split(value).join('[REDACTED]');
    return out;
  }
}

/** Admin URLs in `targets` carry passwords; a driver error may echo one. */
export function registerUrlPassword(redactor: Redactor, url: string): void {
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) redactor.register(password);
  } catch {
    // Not a URL: the rotator reports that, without echoing it.
  }
}
