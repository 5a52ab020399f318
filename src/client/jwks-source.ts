/**
 * Where a verifier's key set comes from: a file Rotor publishes, an HTTP(S) endpoint, or
 * your own function. A source is handed an `AbortSignal` that fires when the verifier's
 * fetch timeout (`fetchTimeoutMs`) runs out; pass it on to your I/O so a hanging endpoint's
 * socket is closed (the verifier stops waiting at the timeout either way).
 *
 * @example
 *   const fromVault: JwksSource = async ({ signal }) => (await fetch(url, { signal })).json();
 */
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';

/** A JWK set: `{ "keys": [...] }`. */
export interface JwksDocument {
  keys: JWK[];
}

export interface JwksFetchContext {
  /** Aborted when the verifier stops waiting (its `fetchTimeoutMs`). */
  signal: AbortSignal;
}

export type JwksSource = (ctx: JwksFetchContext) => Promise<JwksDocument> | JwksDocument;

/** What `jwksFile` and `jwksUrl` return: a source you may also call yourself, without a signal. */
export type BuiltInJwksSource = (ctx?: JwksFetchContext) => Promise<JwksDocument>;

/** Larger than any real key set; a bigger document is refused rather than parsed. */
export const MAX_JWKS_BYTES = 1 << 20;

/** A key set read from a file (the `jwksFile` or `keysetFile` Rotor publishes). */
export function jwksFile(path: string): BuiltInJwksSource {
  return async (ctx) => parseJwks(await readFile(path, { encoding: 'utf8', signal: ctx?.signal }), path);
}

/** A key set fetched over HTTP(S), e.g. `/.well-known/jwks.json`. */
export function jwksUrl(url: string, init: RequestInit = {}): BuiltInJwksSource {
  return async (ctx) => {
    const signals = [init.signal, ctx?.signal].filter((s): s is AbortSignal => !!s);
    const res = await fetch(url, { ...init, signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`GET ${url}: HTTP ${res.status}`);
    }
    return parseJwks(await readCapped(res, url), url);
  };
}

async function readCapped(res: Response, url: string): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    // Leaving the loop by throwing cancels the stream: the rest is never downloaded.
    if (size > MAX_JWKS_BYTES) throw new Error(`GET ${url}: key set larger than ${MAX_JWKS_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The document, or an error naming `where`: an empty or half-written file is an error here,
 * so the verifier keeps the last good set instead of adopting a broken one.
 */
export function parseJwks(text: string, where: string): JwksDocument {
  if (text.length > MAX_JWKS_BYTES) throw new Error(`${where}: key set larger than ${MAX_JWKS_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: key set is not JSON (${text.length === 0 ? 'empty' : 'truncated or half-written?'})`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) throw new Error(`${where}: not a JWK set (no "keys" array)`);
  return doc as JwksDocument;
}
