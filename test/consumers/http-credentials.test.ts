/**
 * A reload or health URL with `user:password@` (a management endpoint behind basic auth):
 * fetch() refuses such a URL outright, so Rotor sends the credentials as a basic
 * Authorization header — and never shows them in its output or records.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const PASSWORD = 'mgmt-pw-7f3a9c';
let server: Server;
let port: number;
const seen: string[] = [];
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    const ok = req.headers.authorization === `Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`;
    res.writeHead(ok ? 200 : 401).end(ok ? '{"status":"up"}' : 'unauthorized');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  sandboxes.forEach((s) => s.remove());
  await new Promise((r) => server.close(r));
});

function sandbox(password: string): Sandbox {
  const base = `http://ops:${password}@127.0.0.1:${port}`;
  const sb = new Sandbox(`version: 1
stores:
  env: { type: env-file, path: app.env }
consumers:
  app:
    deliver: [{ store: env, key: TOKEN }]
    reload: [{ http: "${base}/reload" }]
    health: [{ http: "${base}/health", body: up, retries: 0 }]
secrets:
  - { id: app/token, type: random, length: 24, grace: 1h, consumers: [app] }
`);
  sandboxes.push(sb);
  return sb;
}

it('sends the URL\'s credentials as basic auth and shows the URL without them', async () => {
  const sb = sandbox(PASSWORD);
  await sb.ok(['init']);
  const r = await sb.ok(['rotate', 'app/token']);
  expect(seen.slice(-2)).toEqual([
    `POST /reload Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`,
    `GET /health Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`,
  ]);
  const history = await sb.ok(['history', 'app/token', '--json']);
  const audit = await sb.ok(['audit', 'export']);
  for (const text of [r.stdout, r.stderr, history.stdout, audit.stdout]) expect(text).not.toContain(PASSWORD);
});

it('a refused credential fails the step with the URL shown without it, and rolls back', async () => {
  const sb = sandbox('wrong-pw-55e1');
  await sb.ok(['init']);
  const r = await sb.run(['rotate', 'app/token']);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(new RegExp(`POST http://127\\.0\\.0\\.1:${port}/reload answered 401`));
  expect(r.stdout + r.stderr).not.toContain('wrong-pw-55e1');
});
