/**
 * A private Redis on a random loopback port, nothing persisted but its ACL file. Users live
 * in that file (so `ACL SAVE` works, as on a production server that keeps its ACLs):
 * `default` and an admin `rotor-admin`, both with the test password. The URL logs in as
 * the admin, so rotating `default` (requirepass) never locks the admin out. Passwords are
 * written to files as SHA-256 hashes, never argv.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type TestServer, serverDir, startProcess, stopper, testPassword, waitForPort } from './common.js';

export interface RedisServer extends TestServer {
  /** The ACL file the server loads at start and `ACL SAVE` writes. */
  aclFile: string;
}

export const REDIS_ADMIN = 'rotor-admin';

export async function startRedis(): Promise<RedisServer> {
  const dir = serverDir('rotor-redis-');
  const password = testPassword();
  const hash = createHash('sha256').update(password).digest('hex');
  const port = await freePort();
  writeFileSync(join(dir, 'users.acl'), `user default on #${hash} ~* &* +@all\nuser ${REDIS_ADMIN} on #${hash} ~* &* +@all\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'redis.conf'),
    `port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${dir}\naclfile ${join(dir, 'users.acl')}\nmaxclients 1000\n`,
    { mode: 0o600 },
  );
  const { child, log } = startProcess('redis-server', [join(dir, 'redis.conf')]);
  await waitForPort(port, child, log);
  return {
    host: '127.0.0.1', port, user: REDIS_ADMIN, password,
    url: `redis://${REDIS_ADMIN}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    log,
    aclFile: join(dir, 'users.acl'),
    stop: stopper(child, dir),
  };
}
