/**
 * The private test servers that database and cache rotations will run against: each
 * starts in its own temp dir on a random port with password auth on, accepts the right
 * password and refuses a wrong one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { connect } from 'node:net';
import { startPostgres, type PostgresServer } from './helpers/servers/postgres.js';
import { startMariadb, type MariadbServer } from './helpers/servers/mariadb.js';
import { startRedis, type RedisServer } from './helpers/servers/redis.js';

describe.concurrent('private test servers', () => {
  let postgres: PostgresServer;
  let mariadb: MariadbServer;
  let redis: RedisServer;
  beforeAll(async () => {
    [postgres, mariadb, redis] = await Promise.all([startPostgres(), startMariadb(), startRedis()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([postgres?.stop(), mariadb?.stop(), redis?.stop()]);
  });

  it('PostgreSQL: SCRAM password auth on a private port', async () => {
    const ok = new pg.Client({ host: postgres.host, port: postgres.port, user: 'postgres', password: postgres.password, database: 'postgres' });
    await ok.connect();
    const { rows } = await ok.query("SELECT current_setting('password_encryption') AS enc, current_setting('port') AS port");
    await ok.end();
    expect(rows[0]).toEqual({ enc: 'scram-sha-256', port: String(postgres.port) });
    const bad = new pg.Client({ host: postgres.host, port: postgres.port, user: 'postgres', password: 'wrong', database: 'postgres' });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('MariaDB: password auth on a private port', async () => {
    const ok = await mysql.createConnection({ host: mariadb.host, port: mariadb.port, user: 'root', password: mariadb.password });
    const [rows] = await ok.query('SELECT @@port AS port');
    await ok.end();
    expect(rows).toEqual([{ port: mariadb.port }]);
    await expect(mysql.createConnection({ host: mariadb.host, port: mariadb.port, user: 'root', password: 'wrong' })).rejects.toThrow(/Access denied/);
  });

  it('Redis: requirepass on a private port', async () => {
    const ok = new Redis({ host: redis.host, port: redis.port, password: redis.password, lazyConnect: true, maxRetriesPerRequest: 0 });
    await ok.connect();
    expect(await ok.ping()).toBe('PONG');
    ok.disconnect();
    // A raw RESP exchange, so the client library's own handshake does not hide the answers.
    const replies = await new Promise<string>((resolve, reject) => {
      const socket = connect(redis.port, redis.host);
      let data = '';
      socket.on('data', (d) => {
        data += d;
        if (data.split('\r\n').length > 2) socket.end();
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write('GET k\r\nAUTH wrong\r\n');
    });
    expect(replies).toMatch(/^-NOAUTH.*\r\n-WRONGPASS/);
  });
});
