/** Which secrets are due: never rotated, or current for at least their interval. */
import type { SecretConfig } from '../config/schema.js';
import type { SecretSummary } from '../state/types.js';

export function dueAt(secret: SecretConfig, summary: SecretSummary | undefined): number | undefined {
  if (!summary?.currentSince) return 0;
  return secret.intervalMs === undefined ? undefined : summary.currentSince + secret.intervalMs;
}

export function dueSecrets(secrets: SecretConfig[], summaries: Map<string, SecretSummary>, now: number): SecretConfig[] {
  return secrets.filter((s) => {
    const at = dueAt(s, summaries.get(s.id));
    return at !== undefined && at <= now;
  });
}
