/**
 * A target that hangs the login: the secret's `host`/`port` (where clients connect, so
 * where verify logs in) point at a TCP listener that accepts and never answers. With
 * `timeouts: { verify: 1s }` verify fails on time, the rotation rolls back through the
 * admin URL (the real server), and the process exits at once: the rotator cut its login
 * off when the step's signal fired, so no socket or connect timer (10 s) keeps it alive.
 */
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { connectPg, startPostgres, type PostgresServer } from '../helpers/servers/postgres.js';
import { pgAccepts } from '../helpers/logins.js';
import { storedValues } from '../helpers/db-history.js';

let server: PostgresServer;
let admin: pg.Client;
let hang: Server;
let hangPort: number;
const held = new Set<Socket>();
let accepted = 0;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = await connectPg(server.url);
  hang = createServer((socket) => {
    accepted++;
    held.add(socket);
    socket.on('error', () => {});
    socket.resume(); // reads (and ignores) the login, so the client's close is seen
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  hangPort = (hang.address() as { port: number }).port;
}, 60_000);
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((resolve) => hang?.close(resolve));
  await admin?.end();
  await server?.stop();
  for (const sb of sandboxes) sb.remove();
});

describe('a step timeout against a server that hangs the login', () => {
  it('postgres-password: verify fails after 1s, the rotation rolls back, the process exits promptly and leaves no login open', async () => {
    await admin.query('CREATE ROLE app_hang LOGIN');
    const sb = new Sandbox(
      'version: 1\ntargets:\n  db: { type: postgres, url: "${PG_ADMIN_URL}" }\nsecrets:\n'
        + `  - { id: db/hang, type: postgres-password, target: db, strategy: alternating, username: app_hang, host: 127.0.0.1, port: ${hangPort}, timeouts: { verify: 1s } }\n`,
    );
    sb.baseEnv.PG_ADMIN_URL = server.url;
    sandboxes.push(sb);
    await sb.ok(['init']);

    const started = Date.now();
    const r = await sb.run(['rotate', 'db/hang', '--no-grace']);
    const elapsed = Date.now() - started;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(/verify/i);
    expect(`${r.stdout}${r.stderr}`).toMatch(/1s|timed out|timeout/i);
    // The login's own connect timeout is 10 s: a process still waiting on it would take that long.
    expect(elapsed).toBeLessThan(8_000);

    // Rolled back: nothing stored became current, and the clone the rotation set up may not log in.
    const stored = await storedValues(sb, 'db/hang');
    expect(stored.map((v) => v.stage)).toEqual(['failed']);
    const [pending] = stored;
    expect(await pgAccepts({ ...pending!.value, host: '127.0.0.1', port: server.port })).toBe(false);
    // The hanging listener saw the login, and the rotor process let go of it when it exited.
    expect(accepted).toBeGreaterThan(0);
    for (let i = 0; i < 20 && held.size; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held.size).toBe(0);
  }, 60_000);
});
