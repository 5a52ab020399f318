/**
 * Defense in depth for "no secret in any message": every value Rotor generates or reads is
 * registered here, and every error text that leaves the engine (step records, audit
 * details, terminal output) passes through `redact`. Errors from drivers sometimes echo
 * what they were given; this is where that stops. Rotators get it from outside: the
 * wrapper in rotator-wrap.ts redacts what they throw and report.
 *
 * Bounded for a daemon that runs for months: the values registered are kept in
 * least-recently-registered order and the oldest are dropped past `cap` (every read of a
 * stored value registers it again, so the values in use stay). Pinned values (the targets'
 * admin passwords) are never dropped. `redact` looks values up by their first
 * MIN_LENGTH characters, so its cost follows the text's length, not how many values are known.
 *
 * @example
 * const r = new Redactor({ cap: 1000 });
 * r.register({ username: 'app', password: 'hunter2-long' });
 * r.redact('login failed for app/hunter2-long'); // 'login failed for app/[REDACTED]'
 */
import type { RotorConfig } from '../config/schema.js';
import type { Json, SecretValue } from '../rotators/types.js';

const MIN_LENGTH = 6;
const NOT_SECRET = /^(username|user|host|port|database|kid|alg|algorithm|primary|id|kty|use|crv)$/i;
/** Ample for every live version of thousands of secrets, and a few KB of index per thousand. */
export const DEFAULT_REDACTOR_CAP = 20_000;

export class Redactor {
  /** Registered strings, oldest first (a Map keeps insertion order: a cheap LRU). */
  private readonly known = new Map<string, true>();
  private readonly pinned = new Set<string>();
  /** First MIN_LENGTH characters → the strings starting with them. */
  private readonly byPrefix = new Map<string, Set<string>>();
  private readonly cap: number;

  constructor(opts: { cap?: number } = {}) {
    this.cap = Math.max(1, opts.cap ?? DEFAULT_REDACTOR_CAP);
  }

  /** How many strings are known (pinned ones included); never more than cap + pinned. */
  get size(): number {
    return this.known.size + this.pinned.size;
  }

  /** Registers every secret string in `value`, however deeply nested (key sets hold arrays of keys). */
  register(value: SecretValue | Json): void {
    this.walk(value, (s) => this.remember(s));
  }

  /** Like register, but never dropped: for secrets that live as long as the process (admin passwords). */
  pin(value: SecretValue | Json): void {
    this.walk(value, (s) => {
      this.known.delete(s);
      this.pinned.add(s);
      this.index(s);
    });
  }

  redact(text: string): string {
    if (text.length < MIN_LENGTH || this.byPrefix.size === 0) return text;
    const found = new Set<string>();
    for (let i = 0; i + MIN_LENGTH <= text.length; i++) {
      const candidates = this.byPrefix.get(text.slice(i, i + MIN_LENGTH));
      if (candidates) for (const c of candidates) found.add(c);
    }
    if (found.size === 0) return text;
    // Longest first: a value that contains another is cut whole, not around the shorter one.
    let out = text;
    for (const value of [...found].sort((a, b) => b.length - a.length)) {
      if (out.includes(value)) out = out.split(value).join('[REDACTED]');
    }
    return out;
  }

  private walk(value: SecretValue | Json, add: (s: string) => void): void {
    if (typeof value === 'string') {
      if (value.length < MIN_LENGTH) return;
      // The forms a value takes when a tool echoes it: as is, inside JSON (once, or twice when a
      // JSON document is itself quoted, as on a shared reload's stdin), URL-encoded, and
      // base64 (a Kubernetes Secret's `data`, which an API error may quote back).
      const once = JSON.stringify(value).slice(1, -1);
      const twice = JSON.stringify(once).slice(1, -1);
      for (const form of new Set([value, once, twice, encodeURIComponent(value), Buffer.from(value, 'utf8').toString('base64')])) add(form);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) this.walk(item, add);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, field] of Object.entries(value)) {
      // Names, addresses and key ids are not secret, and redacting them would garble messages.
      if (typeof field === 'string' && NOT_SECRET.test(key)) continue;
      this.walk(field, add);
    }
  }

  private remember(s: string): void {
    if (this.pinned.has(s)) return;
    // Registered again: it moves to the young end.
    this.known.delete(s);
    this.known.set(s, true);
    this.index(s);
    while (this.known.size > this.cap) {
      const oldest = this.known.keys().next().value as string;
      this.known.delete(oldest);
      this.unindex(oldest);
    }
  }

  private index(s: string): void {
    const key = s.slice(0, MIN_LENGTH);
    let set = this.byPrefix.get(key);
    if (!set) this.byPrefix.set(key, (set = new Set()));
    set.add(s);
  }

  private unindex(s: string): void {
    const key = s.slice(0, MIN_LENGTH);
    const set = this.byPrefix.get(key);
    set?.delete(s);
    if (set?.size === 0) this.byPrefix.delete(key);
  }
}

/**
 * A redactor that already knows the admin passwords in `targets`: a driver error may echo
 * the URL it was given. They are pinned: the process uses them until it ends.
 */
export function newRedactor(config: Pick<RotorConfig, 'targets'> & Partial<Pick<RotorConfig, 'notify' | 'consumers'>>): Redactor {
  const redactor = new Redactor();
  const pinPassword = (url: string) => {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password) redactor.pin(password);
    } catch {
      // Not a URL: the rotator reports that, without echoing it.
    }
  };
  for (const target of Object.values(config.targets)) pinPassword(target.url);
  // Consumers' reload and health URLs may carry a password too (basic auth in the URL): an
  // HTTP client's error quotes the URL it refused.
  for (const url of urlsWithPasswords(config.consumers ?? {})) pinPassword(url);
  // A notifier's credentials are secrets too: a Slack webhook URL is one whole.
  for (const n of Object.values(config.notify ?? {})) {
    if (n.type === 'slack') redactor.pin(n.webhook);
    if (n.type === 'pagerduty') redactor.pin(n.routingKey);
    if (n.type === 'webhook') redactor.pin(n.secret);
    if (n.type === 'email') pinPassword(n.smtp);
  }
  return redactor;
}

/** Every string in `value` that is a URL with a password in it. */
function urlsWithPasswords(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) urlsWithPasswords(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) urlsWithPasswords(v, out);
  }
  return out;
}
