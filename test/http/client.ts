/**
 * A raw HTTP client for the API tests: node:http, so paths go out byte for byte (fetch would
 * normalize `..` and re-encode), with a chosen loopback source address (the failed-auth
 * limiter counts per address; 127.0.0.0/8 is all loopback on Linux) and a record of every
 * response for the leak canary.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  ms: number;
}

export interface CallOptions {
  method?: string;
  token?: string;
  /** The whole Authorization header, over `token`. */
  authorization?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send the body chunked, without a content-length. */
  chunked?: boolean;
  /** Source address, e.g. 127.0.0.12. */
  from?: string;
}

/** Every response any client here saw, headers and body, for leak searches. */
export const seen: string[] = [];

export function call(port: number, path: string, o: CallOptions = {}): Promise<Res> {
  const body = o.rawBody ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
  const headers: Record<string, string> = { ...o.headers };
  if (o.authorization !== undefined) headers.authorization = o.authorization;
  else if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (body !== undefined) {
    headers['content-type'] = o.contentType ?? 'application/json';
    if (o.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] ??= String(Buffer.byteLength(body));
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: o.method ?? (body !== undefined ? 'POST' : 'GET'), headers, agent: false,
      ...(o.from ? { localAddress: o.from } : {}),
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        seen.push(`${res.statusCode} ${path}\n${JSON.stringify(res.headers)}\n${text}`);
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json, ms: performance.now() - started });
      });
    });
    req.on('error', reject);
    if (body !== undefined && o.chunked) {
      req.write(body.slice(0, 100));
      req.end(body.slice(100));
    } else if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** An error body as SPEC says: `{error, kind, hint}`, error and kind non-empty strings. */
export function isErrorBody(json: unknown): boolean {
  const j = json as { error?: unknown; kind?: unknown; hint?: unknown } | undefined;
  return typeof j?.error === 'string' && j.error.length > 0 && typeof j.kind === 'string' && j.kind.length > 0 && typeof j.hint === 'string' && j.hint.length > 0;
}
