/** `GET /v1/openapi.json`: the API reference, written beside the routes (routes.ts). */
const error = { $ref: '#/components/schemas/Error' };
const idParam = { name: 'id', in: 'path', required: true, description: 'secret id, URL-encoded (database%2Fprimary)', schema: { type: 'string' } };
const responses = (ok: Record<string, unknown>, extra: Record<string, string> = {}) => ({
  ...ok,
  400: { description: 'bad request', content: { 'application/json': { schema: error } } },
  401: { description: 'no valid token' },
  403: { description: 'the token\'s role is not enough' },
  404: { description: 'unknown secret or rotation' },
  429: { description: 'too many failed authentications' },
  ...Object.fromEntries(Object.entries(extra).map(([code, description]) => [code, { description, content: { 'application/json': { schema: error } } }])),
});
const json = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const body = (properties: Record<string, unknown>, required: string[] = []) => ({
  required: required.length > 0,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties, required } } },
});

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'Rotor API', version: '1', description: 'rotor serve: secrets, rotations and the audit log. No endpoint returns a secret value.' },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: '`rotor token create --role viewer|operator|admin --name N`' } },
      schemas: {
        Error: { type: 'object', required: ['error', 'kind'], properties: { error: { type: 'string' }, kind: { type: 'string' }, hint: { type: 'string' } } },
      },
    },
    paths: {
      '/v1/secrets': { get: { summary: 'every secret (viewer)', parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the `next` of the previous page' },
      ], responses: responses({ 200: json('a page of secrets and `next`') }) } },
      '/v1/secrets/{id}': { get: { summary: 'one secret (viewer)', parameters: [idParam], responses: responses({ 200: json('the secret and its open rotations') }) } },
      '/v1/secrets/{id}/history': { get: { summary: 'versions and rotations (viewer)', parameters: [idParam], responses: responses({ 200: json('history') }) } },
      '/v1/secrets/{id}/rotate': { post: {
        summary: 'start a rotation (operator)', parameters: [idParam],
        requestBody: body({ reason: { type: 'string', maxLength: 500 }, incident: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' }, noGrace: { type: 'boolean' } }),
        responses: responses({ 202: json('{ rotationId }: follow it at /v1/rotations/{rotationId}') }, { 409: 'the secret is busy', 502: 'could not start: the target did not answer', 503: 'the daemon is stopping' }),
      } },
      '/v1/secrets/{id}/rollback': { post: { summary: 'make the previous value current again, during grace (operator)', parameters: [idParam], requestBody: body({ reason: { type: 'string', maxLength: 500 } }), responses: responses({ 200: json('the outcome') }, { 409: 'busy' }) } },
      '/v1/secrets/{id}/retire': { post: { summary: 'revoke the previous value whose grace ended (operator)', parameters: [idParam], requestBody: body({ force: { type: 'boolean' } }), responses: responses({ 200: json('the outcome') }, { 409: 'nothing to retire yet' }) } },
      '/v1/rotations/{rotationId}': { get: { summary: 'a rotation and its steps, live (viewer)', parameters: [{ name: 'rotationId', in: 'path', required: true, schema: { type: 'string' } }], responses: responses({ 200: json('the rotation and its step records') }) } },
      '/v1/audit': { get: { summary: 'the audit log (admin)', parameters: [
        { name: 'since', in: 'query', schema: { type: 'string' }, description: 'ISO time or a duration back (24h)' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } },
      ], responses: responses({ 200: json('events as stored, oldest first, and whether more follow (not verified: `rotor audit verify` does that)') }) } },
      '/v1/emergency': { post: {
        summary: 'rotate everything in scope now, no grace (admin)',
        requestBody: body({ scope: { enum: ['critical', 'high', 'all'] }, incident: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' }, reason: { type: 'string', minLength: 1, maxLength: 500 } }, ['scope', 'incident', 'reason']),
        responses: responses({ 202: json('started; an incident report is written when it ends') }),
      } },
      '/v1/openapi.json': { get: { summary: 'this document', security: [], responses: { 200: json('OpenAPI 3.1') } } },
      '/healthz': { get: { summary: 'the process answers', security: [], responses: { 200: json('ok') } } },
      '/readyz': { get: { summary: 'ready for work (503 while stopping)', security: [], responses: { 200: json('ready'), 503: json('stopping') } } },
      '/metrics': { get: { summary: 'Prometheus metrics (a token when serve.metricsToken)', security: [], responses: { 200: { description: 'text exposition format' } } } },
      '/.well-known/jwks.json': { get: { summary: 'public keys of every jwt-keyset with publish: true', security: [], responses: { 200: json('a JWK set'), 304: { description: 'not modified (If-None-Match)' } } } },
    },
  };
}
