/**
 * A private PostgreSQL for one test file: initdb in a temp dir owned by the `postgres`
 * system user (PostgreSQL refuses to run as root), SCRAM password auth, a random loopback
 * port, every statement logged (so tests can search the log for passwords). The superuser
 * password reaches initdb through a file, never argv. Started (and resumed) only once the
 * superuser can log in: the port opens while the server still answers "the database system
 * is starting up".
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, type TestServer, serverDir, startProcess, stopProcess, testPassword, waitForPort } from './common.js';

export interface PostgresServer extends TestServer {
  /** Stops the server but keeps its data: a target that went down. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
}

/** SQLSTATE 57P03, cannot_connect_now: the server is starting up (or recovering). */
const STARTING_UP = '57P03';

/**
 * The port opens before PostgreSQL accepts logins; under load a first client meets
 * 57P03. Waits until the superuser really logs in; a wrong password or any other
 * refusal is thrown at once, as it will not go away.
 */
async function waitForLogin(url: string, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.end();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const transient = code === STARTING_UP || code === 'ECONNREFUSED' || code === 'ECONNRESET';
      if (!transient || child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`PostgreSQL did not accept the superuser login: ${(err as Error).message}\n${log()}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A client of a server this helper started (it accepts logins by then). */
export async function connectPg(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('PostgreSQL is not installed: run `bash scripts/setup.sh`');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

export async function startPostgres(): Promise<PostgresServer> {
  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? Number(execFileSync('id', ['-u', 'postgres']).toString()) : undefined;
  const group = isRoot ? Number(execFileSync('id', ['-g', 'postgres']).toString()) : undefined;
  const dir = serverDir('rotor-pg-', owner, group);
  const password = testPassword();
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner !== undefined) chownSync(pwfile, owner, group!);
  const bin = binDir();
  const asOwner = owner === undefined ? {} : { uid: owner, gid: group };
  execFileSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'], {
    ...asOwner, stdio: 'pipe',
  });
  rmSync(pwfile);
  const port = await freePort();
  let logs = '';
  let child: ChildProcess | undefined;
  let current = () => '';
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const launch = async () => {
    const started = startProcess(
      join(bin, 'postgres'),
      ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'log_statement=all', '-c', 'max_connections=200'],
      { ...asOwner, keepAll: true },
    );
    child = started.child;
    current = started.log;
    try {
      await waitForPort(port, child, started.log);
      await waitForLogin(url, child, started.log);
    } catch (err) {
      await stopProcess(child, 'SIGINT'); // a server that never became usable is no one's to stop later
      throw err;
    }
  };
  const halt = async () => {
    if (child) await stopProcess(child, 'SIGINT');
    logs += current();
    current = () => '';
  };
  await launch().catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    host: '127.0.0.1', port, user: 'postgres', password,
    url,
    log: () => logs + current(),
    halt,
    resume: launch,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
