/**
 * A private moto (servers/moto.ts) for the test file or describe block that calls
 * `motoForFile()`, with a Secrets Manager client on it: started before its tests, stopped
 * after. Apart from moto.ts, which benchmarks import too, because it registers vitest hooks.
 *
 * @example
 * const aws = motoForFile();
 * it('…', async () => { await aws.client().send(cmd); spawn(…, { env: aws.server().env }); });
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll } from 'vitest';
import { motoMissing, startMoto, type MotoServer } from './moto.js';
/** A moto for the calling test file (or describe block) and a Secrets Manager client on it, started before its tests. */
export interface MotoHandle {
  server(): MotoServer;
  client(): SecretsManagerClient;
}

export function motoForFile(): MotoHandle {
  let moto: MotoServer | undefined;
  let client: SecretsManagerClient | undefined;
  beforeAll(async () => {
    if (motoMissing()) return;
    moto = await startMoto();
    client = new SecretsManagerClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  const need = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('moto did not start');
    return x;
  };
  return { server: () => need(moto), client: () => need(client) };
}
