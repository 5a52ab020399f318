// A pg pool that follows a delivered credential file without dropping a query.
//
//   import { swappablePool } from './swappable-pool.mjs';
//   const db = await swappablePool('/run/secrets/db.json');   // {username, password, host, port, database}
//   await db.query('SELECT …');                               // always the newest working pool
//
// When the file changes (Rotor delivered a new password), a new pool is opened and tried
// with `SELECT 1`; only then does it replace the old one, and the old pool is ended
// gracefully: queries already running on it finish, new ones go to the new pool. A file
// whose credential does not work is ignored (the old pool keeps serving) and reported.
import pg from 'pg';
import { watchJsonFile } from 'rotor/client';

export async function swappablePool(path, { intervalMs = 1000, onError = () => {}, onSwap = () => {} } = {}) {
  let current;
  const open = async (c) => {
    const pool = new pg.Pool({ host: c.host, port: c.port, user: c.username, password: c.password, database: c.database, max: 10 });
    pool.on('error', onError);
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return pool;
  };
  const watcher = watchJsonFile(path, async (credential) => {
    const next = await open(credential);
    const previous = current;
    current = next;
    onSwap(credential.username);
    // end() waits for checked-out clients to be released: running queries are not cut.
    if (previous) previous.end().catch(onError);
  }, { intervalMs, onError });
  await watcher.ready;
  if (!current) throw new Error(`no working credential in ${path}`);
  return {
    query: (...args) => current.query(...args),
    async close() {
      watcher.close();
      await current.end();
    },
  };
}
