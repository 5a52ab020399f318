/**
 * The generic webhook's signature (SPEC, "The daemon"):
 * `Rotor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the
 * notifier's `secret`. Signing the time with the body lets a receiver refuse a replayed
 * request once it is older than its tolerance.
 *
 * @example
 * // in a receiver, with the raw body as received (not re-serialised JSON):
 * if (!verifySignature(req.headers['rotor-signature'], rawBody, process.env.ROTOR_WEBHOOK_SECRET, 300)) reply(401);
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Rotor-Signature';

function hmacHex(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** The header value for `body` sent at `nowMs`. */
export function signatureHeader(body: string, secret: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

/**
 * Whether `header` signs `body` with `secret` at a time within `toleranceSec` of now.
 * Several `v1=` entries are allowed (any one may match), so a receiver keeps working
 * while a sender moves to a new secret. Compares in constant time.
 */
export function verifySignature(header: string | null | undefined, body: string | Buffer, secret: string, toleranceSec: number, nowMs = Date.now()): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || signatures.length === 0) return false;
  if (Math.abs(nowMs / 1000 - t) > toleranceSec) return false;
  const expected = Buffer.from(hmacHex(secret, t, typeof body === 'string' ? body : body.toString('utf8')), 'hex');
  return signatures.some((sig) => timingSafeEqual(Buffer.from(sig, 'hex'), expected));
}
