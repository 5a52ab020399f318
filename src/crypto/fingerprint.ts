/**
 * Keyed fingerprints: metadata that lets Rotor (and a person reading `rotor history`) tell
 * two values apart without storing anything that helps guess either of them.
 */
import { createHmac } from 'node:crypto';

export function fingerprint(key: Buffer, secretId: string, plaintext: string): string {
  return createHmac('sha256', key).update(secretId).update('\0').update(plaintext).digest('base64url').slice(0, 16);
}
