/**
 * Throttling, as AWS answers it when an account's Secrets Manager request rate is exceeded:
 * a proxy in front of moto answers ThrottlingException to a chosen number of PutSecretValue
 * calls. The SDK's own retries (standard mode; AWS_MAX_ATTEMPTS) absorb what they can; past
 * that the rotation fails as a transient error, rolls back, and loses nothing. A stalled
 * endpoint fails after ROTOR_AWS_TIMEOUT rather than hanging the step.
 */
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { motoMissing, startMoto, type MotoServer } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the throttling tests: ${missing}`);

describe.skipIf(missing)('Secrets Manager throttling (moto behind a throttling proxy)', () => {
  let moto: MotoServer;
  let proxy: Server;
  let endpoint: string;
  /** How many PutSecretValue calls to answer with ThrottlingException from now on. */
  let throttle = 0;
  let throttled = 0;
  const sandboxes: Sandbox[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    const upstream = new URL(moto.endpoint);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.headers['x-amz-target'] === 'secretsmanager.PutSecretValue' && throttle > 0) {
          throttle--;
          throttled++;
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException' });
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
        const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    sandboxes.forEach((s) => s.remove());
    await new Promise((r) => proxy?.close(r));
    await moto?.stop();
  });

  function sandbox(prefix: string): Sandbox {
    const sb = new Sandbox([
      'version: 1',
      'stores:',
      `  aws: { type: aws-secrets-manager, region: us-east-1, prefix: ${prefix}, endpoint: "\${PROXY}" }`,
      'secrets:',
      '  - { id: app/key, type: random, length: 32, store: aws }',
      '',
    ].join('\n'));
    Object.assign(sb.baseEnv, moto.env, { PROXY: endpoint });
    sandboxes.push(sb);
    return sb;
  }

  it('retries throttled calls (the SDK\'s standard retries, AWS_MAX_ATTEMPTS) and the rotation succeeds', async () => {
    const sb = sandbox('throttle-ok/');
    await sb.ok(['init']);
    throttle = 2;
    throttled = 0;
    await sb.ok(['rotate', 'app/key']);
    expect(throttled).toBe(2);
    throttle = 4;
    throttled = 0;
    await sb.ok(['rotate', 'app/key'], { AWS_MAX_ATTEMPTS: '6' });
    expect(throttled).toBe(4);
    expect((await sb.json<{ versions: { stage: string }[] }>(['history', 'app/key'])).versions.map((v) => v.stage)).toEqual(['previous', 'current']);
  });

  it('a stalled endpoint (accepts, never answers) fails the step after ROTOR_AWS_TIMEOUT instead of hanging', async () => {
    const sb = sandbox('stalled/');
    await sb.ok(['init']);
    const { createServer: tcp } = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const hole = tcp((socket) => void held.push(socket));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const t = Date.now();
    const r = await sb.run(['rotate', 'app/key'], { PROXY: `http://127.0.0.1:${(hole.address() as { port: number }).port}`, ROTOR_AWS_TIMEOUT: '1s', AWS_MAX_ATTEMPTS: '2' });
    held.forEach((socket) => socket.destroy());
    await new Promise((done) => hole.close(done));
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/could not be reached/);
    expect(Date.now() - t).toBeLessThan(20_000);
  });

  it('past its attempts, the rotation fails as transient (exit 1), rolls back, and keeps the current value', async () => {
    const sb = sandbox('throttle-fail/');
    await sb.ok(['init']);
    await sb.ok(['rotate', 'app/key']);
    const v1 = (await sb.ok(['get', 'app/key'])).stdout;
    throttle = 100;
    const r = await sb.run(['rotate', 'app/key'], { AWS_MAX_ATTEMPTS: '2' });
    throttle = 0;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/PutSecretValue.*ThrottlingException/);
    expect((await sb.ok(['get', 'app/key'])).stdout).toBe(v1);
    await sb.ok(['rotate', 'app/key']);
    expect((await sb.ok(['get', 'app/key'])).stdout).not.toBe(v1);
  });
});
