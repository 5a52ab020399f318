// A small service that lives through rotations: it reads its PostgreSQL credentials, its
// JWT key set and its API key from a .env file that Rotor delivers, reloads them on
// POST /reload (opening a new pool, proving it, then retiring the old one gracefully),
// and reports GET /health from a real query.
//
//   SERVICE_ENV=./service.env PORT=8080 node server.mjs
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import pg from 'pg';
import { createTokenSigner } from 'rotor/client';
import { jwtVerify, importJWK, decodeProtectedHeader } from 'jose';

const envFile = process.env.SERVICE_ENV ?? './service.env';
let state = { pool: undefined, keySet: undefined, apiKey: undefined, dbUser: undefined, dbLogin: undefined };

/** The subset of dotenv this service needs: KEY=value, KEY="quoted \" value", comments. */
function readEnv() {
  const out = {};
  for (const line of readFileSync(envFile, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if (v.startsWith('"')) v = JSON.parse(v.replace(/\\\$/g, '$').replace(/\\`/g, '`'));
    else if (v.startsWith("'")) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]] = v;
  }
  return out;
}

async function load() {
  const env = readEnv();
  const next = { ...state };
  const login = `${env.DATABASE_USER}\0${env.DATABASE_PASSWORD}`;
  if (env.DATABASE_USER && env.DATABASE_PASSWORD && login !== state.dbLogin) {
    const pool = new pg.Pool({ host: env.DATABASE_HOST, port: Number(env.DATABASE_PORT), user: env.DATABASE_USER, password: env.DATABASE_PASSWORD, database: env.DATABASE_NAME ?? 'postgres', max: 5 });
    pool.on('error', () => {});
    await pool.query('SELECT 1'); // a credential that does not work never replaces one that does
    next.pool = pool;
    next.dbUser = env.DATABASE_USER;
    next.dbLogin = login;
  }
  if (env.JWT_KEYSET) next.keySet = JSON.parse(env.JWT_KEYSET);
  if (env.API_KEY) next.apiKey = env.API_KEY;
  const old = state.pool;
  state = next;
  if (old && old !== next.pool) old.end().catch(() => {}); // running queries finish first
}

/** How many times the service reloaded: Rotor reloads it once per run, however many of its secrets rotate. */
let reloads = 0;
const signer = createTokenSigner(() => state.keySet);
async function verify(token) {
  const { kid } = decodeProtectedHeader(token);
  const jwk = state.keySet?.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error('unknown kid');
  return jwtVerify(token, await importJWK(jwk, state.keySet.alg));
}

const server = createServer(async (req, res) => {
  const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  try {
    if (req.method === 'POST' && req.url === '/reload') {
      await load();
      reloads++;
      return send(200, { reloaded: true, user: state.dbUser });
    }
    if (req.url === '/health') {
      if (!state.pool) return send(503, { db: 'no credentials yet' });
      await state.pool.query('SELECT 1');
      return send(200, { db: 'ok', user: state.dbUser, reloads });
    }
    if (req.url === '/token') return send(200, { token: await signer.sign({ sub: 'demo' }, { expiresIn: '10m' }) });
    if (req.url?.startsWith('/whoami')) {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const { payload } = await verify(token);
      const { rows } = await state.pool.query('SELECT current_user AS u');
      return send(200, { sub: payload.sub, dbUser: rows[0].u });
    }
    send(404, { error: 'not found' });
  } catch (err) {
    send(500, { error: err.message });
  }
});

try {
  await load();
} catch {
  // Not delivered yet: /health says so until the first POST /reload.
}
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
