/**
 * A real JWKS endpoint on 127.0.0.1 for the verifier tests, and tokens minted with jose.
 * `mode` decides how it answers: the set, an HTTP status, or never (a hanging endpoint).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface JwksServer {
  url: string;
  /** Requests received so far. */
  hits: number;
  /** 'ok' serves `body`; a number answers that status; 'hang' never answers. */
  mode: 'ok' | 'hang' | number;
  body: string;
  close(): Promise<void>;
}

export async function startJwksServer(body: string): Promise<JwksServer> {
  const sockets = new Set<Socket>();
  const state: JwksServer = { url: '', hits: 0, mode: 'ok', body, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    state.hits++;
    if (state.mode === 'hang') return;
    if (state.mode !== 'ok') return void res.writeHead(state.mode, { 'content-type': 'text/plain' }).end('unavailable');
    res.writeHead(200, { 'content-type': 'application/json' }).end(state.body);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

export interface TestKey {
  kid: string;
  alg: string;
  jwk: JWK;
  privateKey: CryptoKey;
  /** A token signed with this key: `exp` one hour ahead unless `payload` or `claims` says otherwise. */
  sign(payload?: JWTPayload, claims?: { exp?: number | null; iat?: number; kid?: string }): Promise<string>;
}

export async function testKey(kid: string, alg = 'ES256'): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg };
  return {
    kid,
    alg,
    jwk,
    privateKey,
    async sign(payload = {}, claims = {}) {
      const nowS = Math.floor(Date.now() / 1000);
      let t = new SignJWT(payload).setProtectedHeader({ alg, kid: claims.kid ?? kid }).setIssuedAt(claims.iat ?? nowS);
      if (claims.exp !== null) t = t.setExpirationTime(claims.exp ?? nowS + 3600);
      return t.sign(privateKey);
    },
  };
}

export const jwks = (...keys: (TestKey | JWK)[]): string => JSON.stringify({ keys: keys.map((k) => ('jwk' in k ? k.jwk : k)) });
