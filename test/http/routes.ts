/** The token-guarded routes of `rotor serve`, the role each needs, and for POSTs a valid body (what a refused caller would send). */
export type Role = 'viewer' | 'operator' | 'admin';
export const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface Route { method: 'GET' | 'POST'; path: string; need: Role; body?: unknown }

/** `/metrics` needs a token only with serve.metricsToken: true. `{rotationId}` is filled in by the test. */
export const ROUTES: Route[] = [
  { method: 'GET', path: '/v1/secrets', need: 'viewer' },
  { method: 'GET', path: '/v1/secrets/app%2Fkey', need: 'viewer' },
  { method: 'GET', path: '/v1/secrets/app%2Fkey/history', need: 'viewer' },
  { method: 'GET', path: '/v1/rotations/{rotationId}', need: 'viewer' },
  { method: 'GET', path: '/metrics', need: 'viewer' },
  { method: 'POST', path: '/v1/secrets/app%2Fkey/rotate', need: 'operator', body: { reason: 'matrix', noGrace: true } },
  { method: 'POST', path: '/v1/secrets/app%2Fkey/rollback', need: 'operator', body: { reason: 'matrix' } },
  { method: 'POST', path: '/v1/secrets/app%2Fkey/retire', need: 'operator', body: { force: true } },
  { method: 'GET', path: '/v1/audit', need: 'admin' },
  { method: 'POST', path: '/v1/emergency', need: 'admin', body: { scope: 'all', incident: 'INC-1', reason: 'matrix' } },
];

/** The open routes (no token). */
export const OPEN_ROUTES = ['GET /healthz', 'GET /readyz', 'GET /.well-known/jwks.json', 'GET /v1/openapi.json'];
