/**
 * Which secrets are due now: never rotated, or past their `interval` or `schedule` — and
 * inside their `window` (schedule/policy.ts). `rotor rotate --due`, `rotor plan --due` and
 * the daemon agree because they all ask here.
 */
import type { SecretConfig } from '../config/schema.js';
import { dueAt as policyDueAt, inWindow } from '../schedule/policy.js';
import type { SecretSummary } from '../state/types.js';

/** When the secret is due (ms; 0 = now, never rotated), or undefined when it is rotated only on request. */
export function dueAt(secret: SecretConfig, summary: SecretSummary | undefined): number | undefined {
  return policyDueAt(secret, summary?.currentSince);
}

export function dueSecrets(secrets: SecretConfig[], summaries: Map<string, SecretSummary>, now: number): SecretConfig[] {
  return secrets.filter((s) => {
    const at = dueAt(s, summaries.get(s.id));
    return at !== undefined && at <= now && inWindow(s.window, now);
  });
}
