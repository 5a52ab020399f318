/**
 * A private PostgreSQL for one test file: initdb in a temp dir owned by the `postgres`
 * system user (PostgreSQL refuses to run as root), SCRAM password auth, a random loopback
 * port, every statement logged (so tests can search the log for passwords). The superuser
 * password reaches initdb through a file, never argv.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type TestServer, serverDir, startProcess, stopProcess, testPassword, waitForPort } from './common.js';

export interface PostgresServer extends TestServer {
  /** Stops the server but keeps its data: a target that went down. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
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
  const launch = async () => {
    const started = startProcess(
      join(bin, 'postgres'),
      ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'log_statement=all', '-c', 'max_connections=200'],
      { ...asOwner, keepAll: true },
    );
    child = started.child;
    current = started.log;
    await waitForPort(port, child, started.log);
  };
  const halt = async () => {
    if (child) await stopProcess(child, 'SIGINT');
    logs += current();
    current = () => '';
  };
  await launch();
  return {
    host: '127.0.0.1', port, user: 'postgres', password,
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    log: () => logs + current(),
    halt,
    resume: launch,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
