/**
 * What the database and cache lines share: the credential shape, generated passwords, and
 * one server per test file, started before its tests and stopped after.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { Json } from '../../../src/rotators/types.js';

/** A database or cache credential, as `rotor get` prints it. */
export type Login = { username: string; password: string; host: string; port: number; [field: string]: Json };

export const password = () => randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
export const asDb = (v: Login) => ({ username: v.username, password: v.password, host: v.host, port: v.port, database: typeof v.database === 'string' && v.database ? v.database : undefined });

/** Starts one server for the test file and stops it after; `ready()` throws if it did not start. */
export function shared<S, A>(start: () => Promise<S>, connect: (s: S) => Promise<A> | A, stop: (s: S, a: A) => Promise<void>) {
  let server: S | undefined;
  let admin: A | undefined;
  beforeAll(async () => {
    server = await start();
    admin = await connect(server);
  }, 120_000);
  afterAll(async () => {
    if (server !== undefined && admin !== undefined) await stop(server, admin);
  });
  return () => {
    if (server === undefined || admin === undefined) throw new Error('the test server did not start');
    return { server, admin };
  };
}
