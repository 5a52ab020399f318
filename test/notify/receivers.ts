/**
 * Real receivers on 127.0.0.1 random ports for the notify tests: an HTTP server that
 * records every request and answers as the test says, and an SMTP server (smtp-server)
 * that records every AUTH and every mail. Nothing in the notifiers is mocked.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { z } from 'zod';
import { nameSchema } from '../../src/config/common.js';
import { notifierSchemas, type NotifierConfig } from '../../src/notify/registry.js';
import type { Notification } from '../../src/notify/types.js';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpReceiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** `answer` sees each request (and its index from 0) and says what to reply; a Promise holds the reply back. */
export async function startHttpReceiver(answer: (req: Received, index: number) => Answer | Promise<Answer> = () => ({ status: 200 })): Promise<HttpReceiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      void Promise.resolve(answer(r, received.length - 1)).then((a) => {
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? '');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Mail {
  from: string;
  to: string[];
  raw: string;
  user: string | undefined;
}

export interface SmtpReceiver {
  port: number;
  auths: { user: string; pass: string }[];
  mails: Mail[];
  close(): Promise<void>;
}

/** An SMTP server without TLS (loopback only) that accepts AUTH from `user`/`pass` and requires it. */
export async function startSmtpReceiver(user: string, pass: string): Promise<SmtpReceiver> {
  const auths: { user: string; pass: string }[] = [];
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      auths.push({ user: auth.username ?? '', pass: auth.password ?? '' });
      if (auth.username === user && auth.password === pass) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, auths, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A mail's header value and its text body, with quoted-printable soft breaks undone. */
export function parseMail(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding') === 'quoted-printable') {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
  }
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function notification(over: Partial<Notification> = {}): Notification {
  return {
    event: 'rotation.failed',
    at: Date.UTC(2026, 0, 2, 3, 4, 5),
    secretId: 'database/primary',
    rotationId: 'rot-1',
    step: 'verify',
    error: 'login rejected by database',
    hint: 'check that the consumer reloads its credentials',
    incident: null,
    summary: 'rotation of database/primary failed at verify and was rolled back',
    ...over,
  };
}

/** Records what the dispatcher reports, for the assertions. */
export function recorder() {
  const delivered: { name: string; n: Notification }[] = [];
  const failed: { name: string; n: Notification; err: Error; willRetry: boolean }[] = [];
  return {
    delivered,
    failed,
    onDelivered: (name: string, n: Notification) => delivered.push({ name, n }),
    onFailed: (name: string, n: Notification, err: Error, willRetry: boolean) => failed.push({ name, n, err, willRetry }),
  };
}

/** Fast retries so the tests take milliseconds. */
export const FAST_RETRY = { attempts: 3, initialMs: 20, maxMs: 100 };

/** rotor.yaml's `notify:` as the config schema will parse it (see registry.ts). */
const notifySchema = z.record(nameSchema, z.discriminatedUnion('type', notifierSchemas)).default({});

export function notifyConfig(raw: unknown): Record<string, NotifierConfig> {
  return notifySchema.parse(raw);
}
