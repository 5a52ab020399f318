/**
 * `GET /.well-known/jwks.json`: the public keys of every `jwt-keyset` with `publish: true`.
 * A key is published while it signs for a live version — pending (made, not yet signing),
 * current, or previous in grace — so a new key is there before it signs and the old one
 * leaves at retire, as the rotator's own JWKS file does. The body is rebuilt only when the
 * state changed, and served with an ETag and a max-age shorter than the shortest grace.
 */
import { createHash } from 'node:crypto';
import type { RotorConfig, SecretConfig } from '../config/schema.js';
import type { EngineDeps } from '../engine/context.js';
import { readVersion, valueAccess } from '../engine/values.js';
import { publicPart } from '../rotators/jwt-keyset/keys.js';
import type { JwtSpec, JwtValue } from '../rotators/jwt-keyset/schema.js';

export interface JwksDocument {
  body: string;
  etag: string;
  maxAgeSeconds: number;
}

const STAGE_ORDER = { pending: 0, current: 1, previous: 2 } as Record<string, number>;

export function publishedSecrets(config: RotorConfig): SecretConfig[] {
  return config.secrets.filter((s) => s.type === 'jwt-keyset' && (s.spec as JwtSpec).publish);
}

/** The document as the state holds it now. */
export async function buildJwks(deps: EngineDeps, config: RotorConfig): Promise<JwksDocument> {
  const secrets = publishedSecrets(config);
  const keys: object[] = [];
  const seen = new Set<string>();
  for (const secret of secrets) {
    const live = (await deps.state.liveVersions(secret.id)).sort((a, b) => (STAGE_ORDER[a.stage] ?? 9) - (STAGE_ORDER[b.stage] ?? 9) || b.version - a.version);
    for (const row of live) {
      const value = (await readVersion(valueAccess(deps, secret), row)) as unknown as JwtValue;
      const signing = value.keys.find((k) => k.kid === value.kid);
      if (!signing || signing.kty === 'oct' || seen.has(signing.kid)) continue;
      seen.add(signing.kid);
      keys.push(publicPart(signing));
    }
  }
  const body = JSON.stringify({ keys });
  // Verifiers refetch within the shortest grace, so a retired key is gone from their caches
  // before anyone could still rely on it; never longer than half an hour. No floor: a floor
  // (it was 10 s) outlives a grace shorter than twice it; 0 (grace under 2 s) means
  // revalidate every time, which the ETag keeps cheap.
  const shortestGrace = Math.min(...secrets.map((s) => s.graceMs), 3_600_000);
  const maxAgeSeconds = Math.max(0, Math.floor(shortestGrace / 2 / 1000));
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, maxAgeSeconds };
}
