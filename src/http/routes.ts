/**
 * The /v1 routes (SPEC "The daemon"): each checks its role, validates its path and body
 * once (zod), calls one use-case — the same the CLI calls — and answers. Roles: viewer
 * reads, operator rotates, rolls back and retires, admin reads the audit log and declares
 * an emergency. Nothing here returns a value.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { exportAudit } from '../app/audit.js';
import { runEmergency, type EmergencyScope } from '../app/emergency.js';
import { secretHistory } from '../app/history.js';
import { httpStatusFor, httpStatusOf, errorBody } from '../app/outcomes.js';
import { retireSecrets } from '../app/retire.js';
import { rollbackSecret } from '../app/rollback.js';
import { rotateSecrets } from '../app/rotate.js';
import { secretRow } from '../app/status.js';
import { secretIdSchema } from '../config/common.js';
import { PRIORITY_RANK, type SecretConfig } from '../config/schema.js';
import type { DaemonServices } from '../daemon/services.js';
import { firstSight } from '../daemon/runs.js';
import { NotFoundError, UsageError } from '../errors.js';
import { HttpError } from './auth.js';
import type { Role, TokenRow } from '../state/types.js';

type Guard = (role: Role) => (req: FastifyRequest) => Promise<TokenRow>;

const text = z.string().max(500).regex(/^[^\r\n]*$/, 'one line');
const rotateBody = z.strictObject({ reason: text.optional(), incident: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ and -').optional(), noGrace: z.boolean().optional() });
const rollbackBody = z.strictObject({ reason: text.optional() });
const retireBody = z.strictObject({ force: z.boolean().optional() });
const emergencyBody = z.strictObject({
  scope: z.enum(['critical', 'high', 'all']),
  incident: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ and -'),
  reason: text.min(1),
});
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: secretIdSchema.optional().describe('the last id of the previous page'),
});
const auditQuery = z.strictObject({ since: z.string().max(40).optional(), limit: z.coerce.number().int().min(1).max(10_000).default(1000) });
const rotationId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a rotation id');

/** zod's verdict as a 400 naming every problem. */
function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  // No body at all is {}; a body of JSON `null` is a body, and not an object.
  const r = schema.safeParse(input === undefined ? {} : input);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
  throw new UsageError(`bad ${what}: ${problems}`, 'see /v1/openapi.json');
}

export function registerRoutes(app: FastifyInstance, svc: DaemonServices, guard: Guard): void {
  /** The configured secret a path names (decoded once by the router), or 400/404. */
  const secretOf = (req: FastifyRequest): SecretConfig => {
    const raw = (req.params as { id?: string }).id ?? '';
    const id = secretIdSchema.safeParse(raw);
    if (!id.success) throw new UsageError('bad secret id in the path', 'ids are lower-case segments like database/primary, URL-encoded (database%2Fprimary)');
    const secret = svc.config.secrets.find((s) => s.id === id.data);
    if (!secret) throw new NotFoundError(`unknown secret: ${id.data}`, 'GET /v1/secrets lists the configured ids');
    return secret;
  };
  const actorOf = (token: TokenRow) => `api:${token.name}`;

  // Pages as sent, while the state and the second are the same: a dashboard's clients ask the
  // same pages again and again, and serializing them is most of a request's cost.
  const pages = new Map<string, string>();
  let pagesOf = svc.config;
  app.get('/v1/secrets', async (req, reply) => {
    await guard('viewer')(req);
    const q = parse(listQuery, req.query, 'query');
    await svc.view.refresh();
    if (pagesOf !== svc.config) { // SIGHUP: other secrets
      pages.clear();
      pagesOf = svc.config;
    }
    const now = Date.now();
    const key = `${svc.view.readAt}|${Math.floor(now / 1000)}|${q.limit}|${q.after ?? ''}`;
    let body = pages.get(key);
    if (body === undefined) {
      const all = svc.config.secrets;
      const at = q.after === undefined ? -1 : all.findIndex((s) => s.id === q.after);
      // An unknown cursor would silently restart at the first page: a paging client would loop.
      if (q.after !== undefined && at < 0) throw new UsageError(`after=${q.after} is not a configured secret`, 'start again without `after`');
      const start = at + 1;
      const page = all.slice(start, start + q.limit);
      const next = start + q.limit < all.length ? page.at(-1)?.id ?? null : null;
      body = JSON.stringify({ secrets: page.map((s) => secretRow(s, svc.view.summaries.get(s.id), now, undefined)), next, total: all.length });
      if (pages.size >= 64) pages.clear();
      pages.set(key, body);
    }
    return reply.header('content-type', 'application/json; charset=utf-8').send(body);
  });

  app.get('/v1/secrets/:id', async (req) => {
    await guard('viewer')(req);
    const secret = secretOf(req);
    await svc.view.refresh();
    const open = svc.view.open.filter((r) => r.secretId === secret.id);
    return { ...secretRow(secret, svc.view.summaries.get(secret.id), Date.now(), undefined), open, consumers: secret.consumers, description: secret.description ?? null };
  });

  app.get('/v1/secrets/:id/history', async (req) => {
    await guard('viewer')(req);
    const secret = secretOf(req);
    const h = await secretHistory(svc.config, secret.id);
    return { secretId: h.secretId, versions: h.versions, rotations: h.rotations.map((r) => ({ ...r, warnings: h.warnings.get(r.id) ?? [] })) };
  });

  app.get('/v1/rotations/:rotationId', async (req) => {
    await guard('viewer')(req);
    const id = parse(rotationId, (req.params as { rotationId?: string }).rotationId, 'rotation id');
    const rotation = await svc.engine.state.rotation(id);
    if (!rotation) throw new NotFoundError(`unknown rotation: ${id}`, 'POST …/rotate returns the id of the rotation it started');
    return { ...rotation, steps: await svc.engine.state.steps(id) };
  });

  app.post('/v1/secrets/:id/rotate', async (req, reply) => {
    const token = await guard('operator')(req);
    const secret = secretOf(req);
    const body = parse(rotateBody, req.body, 'body');
    if (svc.shutdown.aborted) return reply.code(503).send({ error: 'the daemon is stopping', kind: 'Unavailable', hint: 'try again once it is back' });
    const watch = firstSight(secret.id);
    const progress = svc.progress('api');
    const work = rotateSecrets({
      config: svc.config, select: { secrets: [secret] }, trigger: 'api', reason: body.reason ?? null, incident: body.incident ?? null,
      noGrace: body.noGrace ?? false, concurrency: 1, signal: svc.shutdown, actor: actorOf(token),
      progress: () => ({ onEvent: (e) => (watch.onEvent(e), progress.onEvent(e)), end: () => progress.end() }),
    });
    svc.runs.track(work.catch(() => {}));
    const first = await Promise.race([watch.seen, work.then(({ outcomes }) => ({ outcome: outcomes[0]! }))]);
    if ('rotationId' in first) return reply.code(202).send({ rotationId: first.rotationId, secretId: secret.id, status: `/v1/rotations/${first.rotationId}` });
    const o = first.outcome;
    return reply.code(httpStatusFor([o])).send({ error: o.error ?? `${secret.id}: ${o.status}`, kind: o.status, hint: o.hint, outcome: o });
  });

  app.post('/v1/secrets/:id/rollback', async (req, reply) => {
    const token = await guard('operator')(req);
    const secret = secretOf(req);
    const body = parse(rollbackBody, req.body, 'body');
    const r = await svc.runs.track(rollbackSecret(svc.config, secret.id, body.reason ?? null, { signal: svc.shutdown, actor: actorOf(token) })).catch((err: unknown) => {
      // The secret exists; what is missing is a previous value in grace: a conflict with its state, as for retire.
      if (err instanceof NotFoundError) throw new HttpError(409, err.message, 'NothingToRollBack', err.hint);
      throw err;
    });
    const status = r.outcome.status === 'rolled-back' ? 200 : r.outcome.status === 'busy' ? 409 : 500;
    return reply.code(status).send({ outcome: r.outcome, current: r.fromVersion, withdrawn: r.toVersion });
  });

  app.post('/v1/secrets/:id/retire', async (req, reply) => {
    const token = await guard('operator')(req);
    const secret = secretOf(req);
    const body = parse(retireBody, req.body, 'body');
    const r = await svc.runs.track(retireSecrets({ config: svc.config, ids: [secret.id], force: body.force ?? false, signal: svc.shutdown, actor: actorOf(token), progress: () => svc.progress('retire') }));
    if (!r.outcomes.length) {
      const waiting = r.waiting[0];
      return reply.code(409).send({
        error: waiting ? `${secret.id} is in grace until ${new Date(waiting.retireAfter ?? 0).toISOString()}` : `${secret.id} has no previous value to retire`,
        kind: 'NothingToRetire', hint: waiting ? 'send { "force": true } to retire before grace ends' : undefined,
      });
    }
    return reply.code(httpStatusFor(r.outcomes)).send({ outcomes: r.outcomes });
  });

  app.get('/v1/audit', async (req) => {
    await guard('admin')(req);
    const q = parse(auditQuery, req.query, 'query');
    const events: unknown[] = [];
    let more = false;
    // As stored, not verified: `rotor audit verify` on the host checks the chain with the master key.
    await exportAudit(svc.config, { since: q.since }, (e) => {
      if (events.length === q.limit) {
        more = true;
        return false;
      }
      events.push(e);
    });
    return { events, more };
  });

  app.post('/v1/emergency', async (req, reply) => {
    const token = await guard('admin')(req);
    const body = parse(emergencyBody, req.body, 'body');
    const scope = body.scope as EmergencyScope;
    svc.notify({ event: 'emergency.started', incident: body.incident, summary: `emergency ${body.incident}: rotating every ${scope === 'all' ? '' : `${scope} `}secret now (${body.reason})` });
    svc.log.warn({ event: 'emergency.started', incident: body.incident, scope, actor: actorOf(token) }, `emergency ${body.incident} declared`);
    const work = runEmergency({ config: svc.config, scope, incident: body.incident, reason: body.reason, concurrency: undefined, signal: svc.shutdown, actor: actorOf(token), progress: () => svc.progress('emergency') })
      .then(({ report, reportFile }) => {
        svc.notify({
          event: 'emergency.finished', incident: body.incident,
          summary: `emergency ${body.incident} finished: ${report.rotated.length} rotated, ${report.needsAttention.length} need attention (report ${reportFile})`,
          details: { rotated: report.rotated.length, needsAttention: report.needsAttention.length, elapsedMs: report.elapsedMs },
        });
      })
      .catch((err: unknown) => {
        svc.log.error({ event: 'emergency.error', incident: body.incident, error: errorBody(err).error, status: httpStatusOf(err) }, 'the emergency could not run');
      });
    svc.runs.track(work);
    const maxRank = scope === 'all' ? Infinity : PRIORITY_RANK[scope];
    return reply.code(202).send({ incident: body.incident, scope, secrets: svc.config.secrets.filter((s) => PRIORITY_RANK[s.priority] <= maxRank).length });
  });
}
