/**
 * Issue 4's figures: token verification through the `rotor/client` verifier over a 3-key
 * set beside jose verifying against one key (same tokens, same run); and `rotor reencrypt`
 * of 1,000,000 PostgreSQL rows beside the same batched read-and-write loop with the
 * encryption taken out. Bundled and run by bench/run.mjs.
 */
import pg from 'pg';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createKeyring, createTokenVerifier, type Keyring } from '../src/client/index.js';
import { reencrypt } from '../src/rotators/keyring/reencrypt.js';
import { Sandbox } from '../test/helpers/sandbox.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';

type Report = (name: string, value: number, unit: string, baselineName: string, baseline: number, goal: string) => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function verification(report: Report) {
  const pairs = await Promise.all([1, 2, 3].map(() => generateKeyPair('ES256', { extractable: true })));
  const jwks = { keys: await Promise.all(pairs.map(async (p, i) => ({ ...(await exportJWK(p.publicKey)), kid: `k${i}`, alg: 'ES256' }))) };
  // Tokens signed with the newest key (k2), as after a rotation; the set also holds k0 and k1.
  const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => new SignJWT({ sub: `u${i}` }).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setExpirationTime('1h').sign(pairs[2]!.privateKey)));
  const sdk = createTokenVerifier({ jwks: () => jwks, maxAgeMs: 3_600_000 });
  const single = pairs[2]!.publicKey;
  const N = 20_000;
  const rate = async (fn: (t: string) => Promise<unknown>) => {
    const t = performance.now();
    for (let i = 0; i < N; i++) await fn(tokens[i % tokens.length]!);
    return N / ((performance.now() - t) / 1000);
  };
  await rate((t) => sdk.verify(t));
  await rate((t) => jwtVerify(t, single));
  const sdkRates: number[] = [];
  const joseRates: number[] = [];
  for (let r = 0; r < 5; r++) {
    sdkRates.push(await rate((t) => sdk.verify(t)));
    joseRates.push(await rate((t) => jwtVerify(t, single)));
  }
  const s = median(sdkRates);
  const j = median(joseRates);
  console.log(`token verification (ES256): rotor/client over a 3-key set ${Math.round(s).toLocaleString('en')}/s, jose with the one right key ${Math.round(j).toLocaleString('en')}/s: ${(s / j).toFixed(3)}× (goal ≥ 0.95×)`);
  report('verifications/s, rotor/client verifier, 3-key set', s, 'ops/s', 'jose jwtVerify, single key', j, '≥ 0.95×');
}

/** The job's loop with the cryptography taken out: same reads, same compare-and-swap writes, same checkpoints. */
function plainRing(from: string, to: string): Keyring {
  const prefix = (id: string) => `rk1:${id}:`;
  return {
    primaryId: to,
    keyIdOf: (c) => (c.startsWith(prefix(from)) ? from : c.startsWith(prefix(to)) ? to : undefined),
    decrypt: (c) => Buffer.from(c.slice(prefix(from).length), 'latin1'),
    decryptString: (c) => c.slice(prefix(from).length),
    encrypt: (p) => `${prefix(to)}${typeof p === 'string' ? p : p.toString('latin1')}`,
  };
}

async function reencryption(report: Report) {
  const ROWS = 1_000_000;
  const server = await startPostgres();
  const sb = new Sandbox(`version: 1\ntargets:\n  db: { type: postgres, url: "\${PG_URL}" }\nsecrets:\n  - { id: data/key, type: keyring, target: db, data: { table: big, column: secret } }\n`);
  sb.baseEnv.PG_URL = server.url;
  try {
    const admin = new pg.Client({ connectionString: server.url });
    admin.on('error', () => {});
    await admin.connect();
    await admin.query('CREATE TABLE big (id bigserial PRIMARY KEY, secret text)');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'data/key']);
    const v1 = createKeyring(JSON.parse((await sb.ok(['get', 'data/key'])).stdout));
    const t0 = performance.now();
    for (let start = 0; start < ROWS; start += 50_000) {
      const batch = Array.from({ length: 50_000 }, (_, i) => v1.encrypt(`customer-${start + i}-4111111111111111`));
      await admin.query('INSERT INTO big (secret) SELECT unnest($1::text[])', [batch]);
    }
    await admin.query('CREATE TABLE plain AS SELECT id, secret FROM big; ALTER TABLE plain ADD PRIMARY KEY (id)');
    await admin.query('VACUUM ANALYZE big');
    await admin.query('VACUUM ANALYZE plain');
    console.log(`(set-up: ${ROWS.toLocaleString('en')} encrypted rows twice in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    await sb.ok(['rotate', 'data/key']);

    const pool = new pg.Pool({ connectionString: server.url, max: 8 });
    const base = await reencrypt({ pool, data: { table: 'plain', idColumn: 'id', column: 'secret', batchSize: 5000 }, ring: plainRing(v1.primaryId, 'plain2'), checkpointFile: sb.path('plain-checkpoint.json') });
    await pool.end();
    const out = JSON.parse((await sb.ok(['reencrypt', 'data/key', '--json'])).stdout) as { reencrypted: number; rowsPerSecond: number; remaining: number };
    if (out.reencrypted !== ROWS || out.remaining !== 0 || base.reencrypted !== ROWS) throw new Error(`re-encryption incomplete: ${JSON.stringify(out)}`);
    const baseRate = base.reencrypted / (base.ms / 1000);
    console.log(`rotor reencrypt, ${ROWS.toLocaleString('en')} rows: ${out.rowsPerSecond.toLocaleString('en')} rows/s (goal ≥ 50,000); the same loop without encryption ${Math.round(baseRate).toLocaleString('en')} rows/s`);
    report('rotor reencrypt, 1,000,000 PostgreSQL rows', out.rowsPerSecond, 'rows/s', 'same batched loop, no encryption', baseRate, '≥ 50,000 rows/s');
    await admin.end();
  } finally {
    sb.remove();
    await server.stop();
  }
}

export async function run(report: Report): Promise<void> {
  await verification(report);
  await reencryption(report);
}
