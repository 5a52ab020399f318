/**
 * The daemon's HTTP API (SPEC "The daemon"), on fastify: open endpoints (/healthz, /readyz,
 * /.well-known/jwks.json, /metrics) and the token-guarded /v1 routes (routes.ts). Loaded
 * only by `rotor serve`, so the CLI's start-up never pays for it.
 *
 * Every error leaves as `{ error, kind, hint }` with the status app/outcomes.ts gives its
 * class; no response ever carries a secret value.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { errorBody, httpStatusOf } from '../app/outcomes.js';
import { buildJwks, type JwksDocument } from '../daemon/jwks.js';
import type { DaemonServices } from '../daemon/services.js';
import { describeError, RotorError, UsageError } from '../errors.js';
import { authorize, FailureLimiter, HttpError } from './auth.js';
import { openApiDocument } from './openapi.js';
import { registerRoutes } from './routes.js';

export interface HttpServer {
  address: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Request bodies are small JSON objects: reason, incident, a flag. */
export const BODY_LIMIT = 16 * 1024;

export interface HttpOptions {
  ready: () => boolean;
  /** `serve.tls`, read at start (http/tls.ts). */
  tls?: { cert: Buffer; key: Buffer };
}

export async function startHttp(svc: DaemonServices, opts: HttpOptions): Promise<HttpServer> {
  const { serve } = svc.config;
  const app = buildApp(svc, opts);
  // Bounded: a flood of idle connections cannot exhaust the daemon's descriptors.
  app.server.maxConnections = 1024;
  try {
    await app.listen({ host: serve.host, port: serve.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL' && code !== 'ENOTFOUND') throw err;
    await app.close().catch(() => {});
    const why = { EADDRINUSE: 'the address is already in use', EACCES: 'permission denied', EADDRNOTAVAIL: 'no such address on this host', ENOTFOUND: 'unknown host' }[code];
    throw new UsageError(`cannot listen on ${serve.host}:${serve.port}: ${why}`, 'pick another address with --listen HOST:PORT or serve.listen in rotor.yaml (is another rotor serve or service on it?)');
  }
  const addr = app.server.address();
  const address = typeof addr === 'object' && addr ? `${serve.tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  return { address, app, close: () => app.close() };
}

export function buildApp(svc: DaemonServices, opts: HttpOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // A client that sends slowly cannot hold a connection for Node's default 5 minutes.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // Ids are URL-encoded path segments (database%2Fprimary); a longer one is no id of ours.
    routerOptions: { maxParamLength: 256 },
    // A path the router cannot decode (%E0%A4%A) or a segment past maxParamLength: the same
    // `{error, kind, hint}` as every other refusal, not fastify's own body.
    frameworkErrors: (err: { code?: string }, _req: FastifyRequest, reply: FastifyReply) => reply.code(400).send({
      error: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than 256 characters' : 'the path is not valid URL encoding',
      kind: 'BadRequest',
      hint: 'ids are lower-case segments like database/primary, URL-encoded in one path segment (database%2Fprimary)',
    }),
    ...(opts.tls ? { https: opts.tls } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  const limiter = new FailureLimiter();

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message, kind: err.kind, hint: err.hint });
    if (err instanceof RotorError) return reply.code(httpStatusOf(err)).send(errorBody(err));
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const tooLarge = e.statusCode === 413;
      return reply.code(e.statusCode).send({
        error: tooLarge ? `the body is larger than ${BODY_LIMIT} bytes` : badRequestText(e),
        kind: tooLarge ? 'PayloadTooLarge' : 'BadRequest',
        hint: tooLarge ? 'send a small JSON object' : 'send `Content-Type: application/json` with a JSON object as the API reference shows (/v1/openapi.json)',
      });
    }
    svc.log.error({ event: 'http.error', method: req.method, url: req.routeOptions?.url, error: describeError(err) }, 'request failed');
    return reply.code(500).send(errorBody(err));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({
    error: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
    kind: 'NotFound',
    hint: 'see /v1/openapi.json; a secret id goes URL-encoded in one path segment (database%2Fprimary)',
  }));

  /** The token of the request (or throws 401/403/429). */
  const guard = (role: 'viewer' | 'operator' | 'admin') => (req: FastifyRequest) =>
    authorize(svc.engine.state, limiter, { addr: req.ip, header: req.headers.authorization }, role);

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => (opts.ready() ? { ready: true } : reply.code(503).send({ ready: false, error: 'stopping', kind: 'Unavailable', hint: 'the daemon is shutting down' })));

  let jwks: { marker: number; doc: Promise<JwksDocument> } | undefined;
  app.get('/.well-known/jwks.json', async (req, reply) => {
    // Rebuilt when the state view moved on (a new key made, an old one retired).
    await svc.view.refresh();
    if (!jwks || jwks.marker !== svc.view.readAt) jwks = { marker: svc.view.readAt, doc: buildJwks(svc.engine.deps, svc.config) };
    let doc: JwksDocument;
    try {
      doc = await jwks.doc;
    } catch (err) {
      jwks = undefined;
      throw err;
    }
    reply.header('etag', doc.etag).header('cache-control', `public, max-age=${doc.maxAgeSeconds}`).header('content-type', 'application/json');
    if (req.headers['if-none-match'] === doc.etag) return reply.code(304).send();
    return reply.send(doc.body);
  });

  app.get('/metrics', async (req, reply) => {
    if (svc.config.serve.metricsToken) await guard('viewer')(req);
    await svc.view.refresh();
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(await svc.metrics.render(Date.now()));
  });

  app.get('/v1/openapi.json', async () => openApiDocument());

  registerRoutes(app, svc, guard);
  return app;
}

function badRequestText(e: { code?: string; message?: string }): string {
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'the body must be JSON (Content-Type: application/json)';
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'the JSON body is empty: send {} at least';
  if (e.code?.startsWith('FST_ERR_CTP')) return 'the body is not valid JSON';
  return 'bad request';
}
