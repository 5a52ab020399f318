// `npm run bench`: Rotor's figures, each beside a baseline measured in the same run, since
// machines are noisy and only the ratio travels. Runs the built CLI as a user would.
import { spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsync, mkdtempSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncAsync = promisify(fsync);
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../bin/rotor.js');
const key = randomBytes(32).toString('base64');
const results = [];

function rotor(dir, args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ROTOR_MASTER_KEY: key }, encoding: 'utf8', maxBuffer: 256 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`rotor ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function sandbox(n) {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-bench-'));
  let yaml = 'version: 1\nsecrets:\n';
  for (let i = 0; i < n; i++) yaml += `  - { id: bench/key-${i}, type: random, length: 32, interval: 90d }\n`;
  writeFileSync(join(dir, 'rotor.yaml'), yaml);
  rotor(dir, ['init']);
  return dir;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const repeat = (n, fn) => median(Array.from({ length: n }, fn));

/** The bare cost Rotor cannot avoid: encrypt each value and write it durably, with the same concurrency. */
async function encryptAndWrite(n, concurrency) {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-baseline-'));
  const aesKey = randomBytes(32);
  for (let i = 0; i < n; i++) mkdirSync(join(dir, `s${i}`));
  const t = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const nonce = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', aesKey, nonce);
      const blob = Buffer.concat([nonce, c.update(randomBytes(24).toString('base64url')), c.final(), c.getAuthTag()]);
      const sub = join(dir, `s${i}`);
      // The same technique Rotor's vault uses: small synchronous steps, asynchronous fsyncs.
      const fd = openSync(join(sub, 'v.tmp'), 'wx', 0o600);
      writeSync(fd, blob);
      await fsyncAsync(fd);
      closeSync(fd);
      renameSync(join(sub, 'v.tmp'), join(sub, 'v2.enc'));
      const d = openSync(sub, 'r');
      await fsyncAsync(d);
      closeSync(d);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

function report(name, value, unit, baselineName, baseline, goal) {
  results.push({ name, value, unit, baselineName, baseline, ratio: value / baseline, goal });
  console.log(`${name}: ${value.toFixed(unit === 'ms' ? 0 : 2)} ${unit}  |  baseline (${baselineName}): ${baseline.toFixed(0)} ${unit}  |  ratio ${(value / baseline).toFixed(2)}×  |  goal ${goal}`);
}

// `npm run bench -- databases` runs only the sections named.
const only = process.argv.slice(2);
const wanted = (name) => !only.length || only.includes(name);

// 1. 1,000 random secrets through all six steps, no grace, in one `rotor rotate --all --no-grace`.
if (wanted('random')) {
  const dir = sandbox(1000);
  rotor(dir, ['rotate', '--all', '--no-grace']); // v1 everywhere, so the timed run also retires
  const startup = repeat(3, () => rotor(dir, ['rotate', '--due']));
  const walls = [];
  for (let i = 0; i < 3; i++) walls.push(rotor(dir, ['rotate', '--all', '--no-grace']));
  const wall = median(walls);
  const baseline = median([await encryptAndWrite(1000, 32), await encryptAndWrite(1000, 32), await encryptAndWrite(1000, 32)]);
  console.log(`rotate 1,000 random secrets: wall ${(wall / 1000).toFixed(2)} s (goal ≤ 5 s); start-up ${startup.toFixed(0)} ms; engine ${((wall - startup) / 1000).toFixed(2)} ms per secret (goal ≤ 2 ms)`);
  report('rotate 1,000 (engine work, wall − start-up)', wall - startup, 'ms', 'encrypt + durable write of 1,000 values', baseline, '≤ 3×');
  rmSync(dir, { recursive: true, force: true });
}

// 2. Cold start of `rotor --version`, beside a bare `node -e 0`.
if (wanted('startup')) {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-bench-'));
  const version = repeat(15, () => rotor(dir, ['--version']));
  const bare = repeat(15, () => {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    return performance.now() - t;
  });
  report('rotor --version cold start', version, 'ms', 'node -e 0', bare, '≤ 150 ms');
  rmSync(dir, { recursive: true, force: true });
}

// 3. `rotor status` over 10,000 secrets with history.
if (wanted('status')) {
  const dir = sandbox(10_000);
  const t = performance.now();
  rotor(dir, ['rotate', '--all', '--no-grace']);
  console.log(`(set-up: first rotation of 10,000 secrets took ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  rotor(dir, ['rotate', '--all']);
  const status = repeat(5, () => rotor(dir, ['status']));
  const json = repeat(5, () => rotor(dir, ['status', '--json']));
  const version = repeat(5, () => rotor(dir, ['--version']));
  report('rotor status, 10,000 secrets', status, 'ms', 'rotor --version', version, '≤ 1000 ms');
  report('rotor status --json, 10,000 secrets', json, 'ms', 'rotor --version', version, '≤ 1000 ms');
  rmSync(dir, { recursive: true, force: true });
}

// 4 to 7. Sections that start their own servers, written in TypeScript against the test
// harness (bench/databases.ts, bench/keys.ts, bench/daemon.ts, bench/aws.ts), bundled here.
for (const section of ['databases', 'keys', 'daemon', 'aws']) {
  if (!wanted(section)) continue;
  const { build } = await import('esbuild');
  // Two levels under the repository, like test/helpers, so the harness finds bin/ and node_modules/.
  const out = resolve(import.meta.dirname, `.build/${section}.mjs`);
  await build({
    entryPoints: [resolve(import.meta.dirname, `${section}.ts`)], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', logLevel: 'warning',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  const { run } = await import(out);
  await run(report);
}

console.log(JSON.stringify({ bench: results }));
