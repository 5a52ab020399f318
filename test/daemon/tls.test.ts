/** `serve.tls`: the API over HTTPS with the configured certificate; a missing key file is a clear error. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/daemon.js';
import { Sandbox } from '../helpers/sandbox.js';
import { startServe } from '../helpers/daemon.js';

function get(url: string, ca: Buffer): Promise<{ status: number; body: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      const cert = (res.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } }).getPeerCertificate().subject.CN;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rotor serve over TLS', () => {
  it('serves HTTPS with serve.tls, and refuses to start without its key file', async () => {
    const sb = new Sandbox();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', sb.path('key.pem'), '-out', sb.path('cert.pem')], { stdio: 'ignore' });
    sb.write('rotor.yaml', 'version: 1\nserve: { tls: { cert: cert.pem, key: key.pem } }\nsecrets: []\n');
    await sb.ok(['init']);
    const d = await startServe(sb);
    try {
      expect(d.lines.find((l) => l.event === 'daemon.ready')?.listen).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const r = await get(`https://127.0.0.1:${d.port}/healthz`, readFileSync(sb.path('cert.pem')));
      expect(r).toMatchObject({ status: 200, cert: 'localhost' });
      // Plain HTTP on the TLS port gets nothing usable.
      await expect(fetch(`http://127.0.0.1:${d.port}/healthz`).then((x) => x.status)).rejects.toThrow();
    } finally {
      await d.stop();
    }
    sb.write('rotor.yaml', 'version: 1\nserve: { tls: { cert: cert.pem, key: missing.pem } }\nsecrets: []\n');
    const bad = await sb.run(['serve', '--listen', `127.0.0.1:${await freePort()}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/serve\.tls: no such file .*missing\.pem/);
  });
});
