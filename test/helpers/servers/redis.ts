/**
 * A private Redis on a random loopback port, nothing persisted, the default user's
 * password set through the config on stdin (never argv).
 */
import { freePort, type TestServer, serverDir, startProcess, stopper, testPassword, waitForPort } from './common.js';

export type RedisServer = TestServer;

export async function startRedis(): Promise<RedisServer> {
  const dir = serverDir('rotor-redis-');
  const password = testPassword();
  const port = await freePort();
  const { child, log } = startProcess('redis-server', ['-']);
  child.stdin?.end(`port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${dir}\nrequirepass ${password}\n`);
  await waitForPort(port, child, log);
  return {
    host: '127.0.0.1', port, user: 'default', password,
    url: `redis://default:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    stop: stopper(child, dir),
  };
}
