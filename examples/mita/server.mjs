// The MITA API as Kubernetes runs it: each "pod" reads its configuration from the
// environment the mita-production-secrets Secret gives it (here: the Secret's data as a JSON
// file, POD_ENV, which the test's kubelet stand-in writes at each rollout), and SIGHUP starts
// a new pod: new connections are proven before they replace the old ones, which then drain,
// so a rolling restart fails no request.
//
//   POD_ENV=./pod-env.json PORT=8080 node server.mjs
//
// GET /health     PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) answer: {"ok":true,…}
// GET /token      a JWT signed with JWT_SECRET (HS256)
// GET /whoami     verifies the bearer token with JWT_SECRET or, in grace, JWT_PREVIOUS_SECRET
// GET /session    a session cookie signed with SECRET_KEY; GET /check-session verifies it
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Redis from 'ioredis';
import { jwtVerify, SignJWT } from 'jose';
import pg from 'pg';

const envFile = process.env.POD_ENV ?? './pod-env.json';
let pod;
let reloads = 0;

async function startPod() {
  const env = JSON.parse(readFileSync(envFile, 'utf8'));
  const db = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 });
  db.on('error', () => {});
  const cache = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  cache.on('error', () => {});
  try {
    // A pod whose credentials do not work never becomes ready: the old one keeps serving.
    await db.query('SELECT 1');
    await cache.connect();
    await cache.ping();
  } catch (err) {
    db.end().catch(() => {});
    cache.disconnect();
    throw err;
  }
  const key = (v) => (v ? Buffer.from(v, 'base64url') : undefined);
  return { env, db, cache, jwt: key(env.JWT_SECRET), jwtPrevious: key(env.JWT_PREVIOUS_SECRET), secretKey: env.SECRET_KEY };
}

async function rollout() {
  const next = await startPod();
  const old = pod;
  pod = next;
  reloads++;
  if (old) setTimeout(() => { old.db.end().catch(() => {}); old.cache.quit().catch(() => {}); }, 1000);
}

const sign = (p, data) => createHmac('sha256', p.secretKey).update(data).digest('base64url');

const server = createServer(async (req, res) => {
  const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const p = pod;
  try {
    if (req.url === '/health') {
      const { rows } = await p.db.query('SELECT current_user AS u');
      await p.cache.ping();
      return send(200, { ok: true, dbUser: rows[0].u, reloads });
    }
    if (req.url === '/token') return send(200, { token: await new SignJWT({ sub: 'mita' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(p.jwt) });
    if (req.url === '/whoami') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      for (const k of [p.jwt, p.jwtPrevious].filter(Boolean)) {
        try {
          const { payload } = await jwtVerify(token, k);
          return send(200, { sub: payload.sub });
        } catch { /* the next key */ }
      }
      return send(401, { error: 'invalid token' });
    }
    if (req.url === '/session') return send(200, { session: `user=mita.${sign(p, 'user=mita')}` });
    if (req.url === '/check-session') {
      const [data, mac] = (req.headers.cookie ?? '').split('.');
      const want = Buffer.from(sign(p, data ?? ''));
      const ok = mac !== undefined && Buffer.from(mac).length === want.length && timingSafeEqual(Buffer.from(mac), want);
      return send(ok ? 200 : 401, { ok });
    }
    send(404, { error: 'not found' });
  } catch (err) {
    send(500, { error: err.message });
  }
});

process.on('SIGHUP', () => {
  rollout().then(() => process.stdout.write('rolled out\n'), (err) => process.stderr.write(`new pod not ready: ${err.message}\n`));
});

await rollout();
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => process.stdout.write('listening\n'));
