/**
 * Does the server accept this credential? Asked with a fresh connection each time, the way
 * a service that restarts would ask. True: logged in; false: the server refused the login.
 * Anything else (server down) throws, so a test never mistakes an outage for a rejection.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';

export interface DbValue {
  username: string;
  password: string;
  host: string;
  port: number;
  database?: string;
}

export async function pgAccepts(v: DbValue): Promise<boolean> {
  const c = new pg.Client({ host: v.host, port: v.port, user: v.username, password: v.password, database: v.database ?? 'postgres', connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (err) {
    if (['28P01', '28000'].includes((err as { code?: string }).code ?? '')) return false;
    throw err;
  }
}

export async function mysqlAccepts(v: DbValue): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ host: v.host, port: v.port, user: v.username, password: v.password, connectTimeout: 5000 });
    await c.end();
    return true;
  } catch (err) {
    // 1045 access denied; 4151 (MariaDB) / 3118 (MySQL) account locked.
    if ([1045, 4151, 3118].includes((err as { errno?: number }).errno ?? 0)) return false;
    throw err;
  }
}

export async function redisAccepts(v: DbValue): Promise<boolean> {
  const c = new Redis({ host: v.host, port: v.port, username: v.username, password: v.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 50 });
  // The refused AUTH arrives on 'error'; connect() then rejects with "Connection is closed".
  let first: unknown;
  c.on('error', (err) => (first ??= err));
  try {
    await c.connect();
    return true;
  } catch (err) {
    const cause = first ?? err;
    if (/WRONGPASS|NOAUTH|invalid username-password/i.test((cause as Error).message)) return false;
    throw cause;
  } finally {
    c.disconnect();
  }
}

export type Accepts = (v: DbValue) => Promise<boolean>;
