/**
 * A private Redis on a random loopback port, nothing persisted but its ACL file. Users live
 * in that file (so `ACL SAVE` works, as on a production server that keeps its ACLs):
 * `default` and an admin `rotor-admin`, both with the test password. The URL logs in as
 * the admin, so rotating `default` (requirepass) never locks the admin out. Passwords are
 * written to files as SHA-256 hashes, never argv.
 *
 * `keepsUsers` starts others: `config` has a config file but no aclfile (CONFIG REWRITE
 * saves users into redis.conf); `nowhere` has neither, options on the command line as a bare
 * container has them, and cannot save ACL changes at all. Their users are set over the
 * connection just after start, as hashes.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type TestServer, serverDir, startProcess, stopper, testPassword, waitForPort } from './common.js';

export interface RedisServer extends TestServer {
  /** The ACL file the server loads at start and `ACL SAVE` writes; '' when it has none. */
  aclFile: string;
  /** Its directory: redis.conf (unless `nowhere`), the ACL file. */
  dir: string;
}

export const REDIS_ADMIN = 'rotor-admin';

export interface RedisServerOptions {
  /** Where the server keeps its users: default `aclfile`. */
  keepsUsers?: 'aclfile' | 'config' | 'nowhere';
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = serverDir('rotor-redis-');
  const password = testPassword();
  const hash = createHash('sha256').update(password).digest('hex');
  const port = await freePort();
  const users = [`default on #${hash} ~* &* +@all`, `${REDIS_ADMIN} on #${hash} ~* &* +@all`];
  const keeps = opts.keepsUsers ?? 'aclfile';
  const aclFile = keeps === 'aclfile' ? join(dir, 'users.acl') : '';
  if (aclFile) writeFileSync(aclFile, users.map((u) => `user ${u}\n`).join(''), { mode: 0o600 });
  const settings: [string, string][] = [
    ['port', String(port)], ['bind', '127.0.0.1'], ['save', ''], ['appendonly', 'no'], ['dir', dir], ['maxclients', '1000'],
    ...(aclFile ? [['aclfile', aclFile] as [string, string]] : []),
  ];
  const conf = join(dir, 'redis.conf');
  if (keeps !== 'nowhere') writeFileSync(conf, settings.map(([k, v]) => `${k} ${v || '""'}\n`).join(''), { mode: 0o600 });
  const args = keeps === 'nowhere' ? settings.flatMap(([k, v]) => [`--${k}`, v]) : [conf];
  const { child, log } = startProcess('redis-server', args);
  const stop = stopper(child, dir);
  try {
    await waitForPort(port, child, log);
    if (!aclFile) await setUsers(port, users);
  } catch (err) {
    await stop(); // a server that never became usable is no one's to stop later
    throw err;
  }
  return {
    host: '127.0.0.1', port, user: REDIS_ADMIN, password,
    url: `redis://${REDIS_ADMIN}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    log,
    aclFile,
    dir,
    stop,
  };
}

/** A server without an aclfile starts with `default` open (nopass): give it and the admin their passwords. */
async function setUsers(port: number, users: string[]): Promise<void> {
  const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false });
  await c.connect();
  // The admin first: once `default` has a password this unauthenticated connection may do nothing more.
  for (const u of [...users].reverse()) await c.call('ACL', 'SETUSER', ...u.split(' '));
  c.disconnect();
}
