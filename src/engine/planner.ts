/**
 * The order of a batch: secrets named in another's `after` go first, and among those free
 * to go, the highest priority first (critical before low), then by id so runs are
 * repeatable.
 */
import { PRIORITY_RANK, type SecretConfig } from '../config/schema.js';

export function orderSecrets(secrets: SecretConfig[]): SecretConfig[] {
  const inBatch = new Map(secrets.map((s) => [s.id, s]));
  const waitingOn = new Map(secrets.map((s) => [s.id, new Set(s.after.filter((d) => inBatch.has(d)))]));
  const byPriority = (a: SecretConfig, b: SecretConfig) =>
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const ready = secrets.filter((s) => waitingOn.get(s.id)!.size === 0).sort(byPriority);
  const out: SecretConfig[] = [];
  while (ready.length) {
    const next = ready.shift()!;
    out.push(next);
    let added = false;
    for (const s of secrets) {
      const deps = waitingOn.get(s.id)!;
      if (deps.delete(next.id) && deps.size === 0) {
        ready.push(s);
        added = true;
      }
    }
    if (added) ready.sort(byPriority);
  }
  return out; // config rules reject cycles, so every secret is here
}
