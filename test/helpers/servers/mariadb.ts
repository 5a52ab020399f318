/**
 * A private MariaDB: mariadb-install-db into a temp dir, mariadbd as the `mysql` user on a
 * random loopback port, root with a password set by an init file (never argv).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, type TestServer, serverDir, startProcess, stopper, testPassword, waitForPort } from './common.js';

export type MariadbServer = TestServer;

/** The port can open before the init file has set the password: wait until the password works. */
async function waitForLogin(port: number, password: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await (await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password })).end();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`MariaDB did not accept the root password: ${(err as Error).message}\n${log()}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface MariadbOptions {
  /** Addresses to listen on, comma-separated (MariaDB 10.11+): default 127.0.0.1. */
  bindAddress?: string;
  /** More server options, e.g. --skip-name-resolve. */
  args?: string[];
}

export async function startMariadb(opts: MariadbOptions = {}): Promise<MariadbServer> {
  const uid = Number(execFileSync('id', ['-u', 'mysql']).toString());
  const gid = Number(execFileSync('id', ['-g', 'mysql']).toString());
  const dir = serverDir('rotor-mariadb-', uid, gid);
  const password = testPassword();
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=mysql', '--auth-root-authentication-method=normal', '--skip-test-db'], {
    stdio: 'pipe',
  });
  const init = join(dir, 'init.sql');
  // root on every loopback host: with --skip-name-resolve a TCP login from 127.0.0.1 is
  // 'root'@'127.0.0.1', not 'root'@'localhost' (mariadb-install-db makes both, without password).
  const roots = ['localhost', '127.0.0.1', '::1'].map((h) => `'root'@'${h}'`);
  writeFileSync(
    init,
    roots.map((r) => `CREATE USER IF NOT EXISTS ${r};\nALTER USER ${r} IDENTIFIED BY '${password}';\nGRANT ALL PRIVILEGES ON *.* TO ${r} WITH GRANT OPTION;\n`).join('') +
      'FLUSH PRIVILEGES;\n',
    { mode: 0o600 },
  );
  chownSync(init, uid, gid);
  const port = await freePort();
  const { child, log } = startProcess('/usr/sbin/mariadbd', [
    '--no-defaults', `--datadir=${join(dir, 'data')}`, `--port=${port}`, `--bind-address=${opts.bindAddress ?? '127.0.0.1'}`, `--socket=${join(dir, 'sock')}`,
    `--pid-file=${join(dir, 'pid')}`, '--user=mysql', `--init-file=${init}`, '--innodb-flush-log-at-trx-commit=0', '--skip-log-bin',
    ...(opts.args ?? []),
  ]);
  const stop = stopper(child, dir);
  try {
    await waitForPort(port, child, log, 60_000);
    await waitForLogin(port, password, log);
  } catch (err) {
    await stop(); // a server that never became usable is no one's to stop later
    throw err;
  }
  return {
    host: '127.0.0.1', port, user: 'root', password,
    url: `mysql://root:${encodeURIComponent(password)}@127.0.0.1:${port}/mysql`,
    log,
    stop,
  };
}
