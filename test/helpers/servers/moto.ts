/**
 * A private moto server standing in for AWS Secrets Manager (and KMS) on a random loopback
 * port, with its own temp directory as working directory and HOME, so nothing it writes
 * lands in the repository. moto comes from `.venv/` (scripts/setup.sh --test installs it).
 * Credentials are dummies that moto accepts; they reach child rotor processes through the
 * environment (`env`), never argv.
 *
 * @example
 * const moto = await startMoto();
 * const client = new SecretsManagerClient(moto.clientConfig);
 * spawn('node', ['bin/rotor.js', 'rotate', 'x'], { env: { ...process.env, ...moto.env } });
 * await moto.stop();
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, serverDir, startProcess, stopper } from './common.js';

const REPO = resolve(import.meta.dirname, '../../..');
export const MOTO_SERVER = join(REPO, '.venv/bin/moto_server');
export const MOTO_REGION = 'us-east-1';

export interface MotoServer {
  endpoint: string;
  region: string;
  /** AWS_* variables for a child process: dummy credentials, the region. */
  env: Record<string, string>;
  /** What an SDK client in the test process needs. */
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** moto's own control API: reset state, configure behaviour. */
  reset(): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

/** Why moto cannot run here, or undefined when it can. */
export function motoMissing(): string | undefined {
  return existsSync(MOTO_SERVER) ? undefined : `moto_server not found at ${MOTO_SERVER}: run scripts/setup.sh --test`;
}

export async function startMoto(): Promise<MotoServer> {
  const missing = motoMissing();
  if (missing) throw new Error(missing);
  const dir = serverDir('rotor-moto-');
  const port = await freePort();
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const { child, log } = startProcess(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    // Nothing from the test runner's own AWS setup may reach moto or be mistaken for real.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMPDIR: dir, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  const stop = stopper(child, dir);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitReady(endpoint, child, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoint,
    region: MOTO_REGION,
    env: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: MOTO_REGION, AWS_DEFAULT_REGION: MOTO_REGION, AWS_EC2_METADATA_DISABLED: 'true',
    },
    clientConfig: { endpoint, region: MOTO_REGION, credentials },
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    log,
    stop,
  };
}

/** moto listens before its routes load: ready is its own API answering. */
async function waitReady(endpoint: string, child: { exitCode: number | null }, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer within ${timeoutMs} ms:\n${log()}`);
}
