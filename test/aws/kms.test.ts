/**
 * The master key wrapped by KMS (moto), through the real binary: `rotor init --kms` in a new
 * project and in one moving its plaintext key under KMS, every command then working with no
 * plaintext key anywhere, and exit 2 with nothing changed when KMS cannot unwrap it.
 */
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { motoMissing, startMoto, type MotoServer } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the KMS master key tests: ${missing}`);

const CONFIG = ['version: 1', 'secrets:', '  - { id: app/key, type: random, length: 32 }', ''].join('\n');
/** No ROTOR_MASTER_KEY: the key must come from KMS. */
const NO_KEY = { ROTOR_MASTER_KEY: undefined };

describe.skipIf(missing)('a KMS-wrapped master key (moto)', () => {
  let moto: MotoServer;
  let kms: KMSClient;
  const sandboxes: Sandbox[] = [];
  beforeAll(async () => {
    moto = await startMoto();
    kms = new KMSClient(moto.clientConfig);
  });
  afterAll(async () => {
    sandboxes.forEach((s) => s.remove());
    kms?.destroy();
    await moto?.stop();
  });

  function sandbox(text?: string): Sandbox {
    const sb = new Sandbox(text);
    // The KMS endpoint reaches rotor as AWS_ENDPOINT_URL_KMS, the SDK's own variable.
    Object.assign(sb.baseEnv, moto.env, { AWS_ENDPOINT_URL_KMS: moto.endpoint });
    sandboxes.push(sb);
    return sb;
  }
  const newKey = async () => (await kms.send(new CreateKeyCommand({ Description: 'rotor' }))).KeyMetadata!.KeyId!;

  it('a new project: init --kms writes only the ciphertext, and every command unwraps it', async () => {
    const keyId = await newKey();
    const sb = sandbox();
    const init = await sb.ok(['init', '--kms', keyId], NO_KEY);
    expect(init.stdout).toMatch(/wrapped by KMS: a new master key from KMS/);
    expect(readFileSync(sb.path('rotor.yaml'), 'utf8')).toContain(`masterKey:\n  kms: { keyId: "${keyId}", ciphertextFile: .rotor/master.key.kms }`);
    expect(existsSync(sb.path('.rotor/master.key'))).toBe(false);
    const file = sb.path('.rotor/master.key.kms');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The file is KMS ciphertext: KMS unwraps it (with Rotor's encryption context) to 32 bytes.
    const plain = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(readFileSync(file, 'utf8'), 'base64'), EncryptionContext: { purpose: 'rotor-master-key' } }));
    expect(plain.Plaintext?.length).toBe(32);
    expect(readFileSync(file, 'utf8')).not.toContain(Buffer.from(plain.Plaintext!).toString('base64'));

    await sb.ok(['rotate', 'app/secret-key'], NO_KEY);
    const v1 = (await sb.ok(['get', 'app/secret-key'], NO_KEY)).stdout.trim();
    expect(v1.length).toBeGreaterThan(40);
    await sb.ok(['audit', 'verify'], NO_KEY);
    // The unwrapped key is the project's key: ROTOR_MASTER_KEY with it (break-glass) reads the same.
    const r = await sb.ok(['get', 'app/secret-key'], { ROTOR_MASTER_KEY: Buffer.from(plain.Plaintext!).toString('base64') });
    expect(r.stdout.trim()).toBe(v1);
    // Readable by others: a warning, as for .rotor/master.key.
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    expect((await sb.ok(['get', 'app/secret-key'], NO_KEY)).stderr).toMatch(/master\.key\.kms is readable by other users; run chmod 600/);
    chmodSync(file, 0o600);
    // A second init keeps the ciphertext.
    const again = await sb.ok(['init', '--kms', keyId], NO_KEY);
    expect(again.stdout).not.toMatch(/wrapped by KMS/);
    expect((await sb.ok(['get', 'app/secret-key'], NO_KEY)).stdout.trim()).toBe(v1);
  });

  it('an existing project moves its plaintext key under KMS; the plaintext file can then go', async () => {
    const keyId = await newKey();
    const sb = sandbox(CONFIG);
    await sb.ok(['init'], NO_KEY); // writes .rotor/master.key
    await sb.ok(['rotate', 'app/key'], NO_KEY);
    const v1 = (await sb.ok(['get', 'app/key'], NO_KEY)).stdout.trim();

    const moved = await sb.ok(['init', '--kms', keyId], NO_KEY);
    expect(moved.stdout).toMatch(/wrapped by KMS: the key in .*master\.key/);
    expect(readFileSync(sb.path('rotor.yaml'), 'utf8')).toMatch(/^secrets:[\s\S]*masterKey:\n {2}kms: /m);
    rmSync(sb.path('.rotor/master.key'));
    expect((await sb.ok(['get', 'app/key'], NO_KEY)).stdout.trim()).toBe(v1);
    await sb.ok(['rotate', 'app/key'], NO_KEY);
    await sb.ok(['audit', 'verify'], NO_KEY);
  });

  it('a failed init --kms (an unknown key, a key that does not open the project) leaves rotor.yaml and the key as they were', async () => {
    const keyId = await newKey();
    const sb = sandbox(CONFIG);
    await sb.ok(['init'], NO_KEY);
    await sb.ok(['rotate', 'app/key'], NO_KEY);
    const v1 = (await sb.ok(['get', 'app/key'], NO_KEY)).stdout;
    const yaml = readFileSync(sb.path('rotor.yaml'), 'utf8');

    const typo = await sb.run(['init', '--kms', 'alias/no-such-key'], NO_KEY);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/alias\/no-such-key/);
    const wrong = await sb.run(['init', '--kms', keyId], { ROTOR_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/master key/);
    expect(readFileSync(sb.path('rotor.yaml'), 'utf8')).toBe(yaml);
    expect(existsSync(sb.path('.rotor/master.key.kms'))).toBe(false);
    expect((await sb.ok(['get', 'app/key'], NO_KEY)).stdout).toBe(v1);

    // The right key then works.
    await sb.ok(['init', '--kms', keyId], NO_KEY);
    rmSync(sb.path('.rotor/master.key'));
    expect((await sb.ok(['get', 'app/key'], NO_KEY)).stdout).toBe(v1);
  });

  it('refuses (exit 2, nothing changed) when KMS cannot unwrap the key', async () => {
    const keyId = await newKey();
    const sb = sandbox();
    await sb.ok(['init', '--kms', keyId], NO_KEY);
    await sb.ok(['rotate', 'app/secret-key'], NO_KEY);
    const history = async () => (await sb.run(['history', 'app/secret-key', '--json'], NO_KEY)).stdout;
    const before = await history();
    const file = sb.path('.rotor/master.key.kms');

    // Made under another key, or for another purpose: KMS refuses it.
    const other = await newKey();
    const foreign = await kms.send(new EncryptCommand({ KeyId: other, Plaintext: Buffer.alloc(32, 7), EncryptionContext: { purpose: 'rotor-master-key' } }));
    writeFileSync(file, Buffer.from(foreign.CiphertextBlob!).toString('base64'));
    let r = await sb.run(['rotate', 'app/secret-key'], NO_KEY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KMS/);
    const wrongPurpose = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(32, 7), EncryptionContext: { purpose: 'something-else' } }));
    writeFileSync(file, Buffer.from(wrongPurpose.CiphertextBlob!).toString('base64'));
    r = await sb.run(['rotate', 'app/secret-key'], NO_KEY);
    expect(r.code).toBe(2);

    // Missing.
    rmSync(file);
    r = await sb.run(['rotate', 'app/secret-key'], NO_KEY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/master\.key\.kms cannot be read.*\n.*restore it from backup/);

    // (A disabled key is not tried here: moto still decrypts with one, where AWS answers DisabledException.)
    expect(await history()).toBe(before);
  });

  it('init --kms with a key other than rotor.yaml names, or a bad key id, is exit 2', async () => {
    const keyId = await newKey();
    const sb = sandbox();
    await sb.ok(['init', '--kms', keyId], NO_KEY);
    const r = await sb.run(['init', '--kms', 'alias/other'], NO_KEY);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/names .* not alias\/other/);
    const bad = await sandbox().run(['init', '--kms', 'no spaces allowed'], NO_KEY);
    expect(bad.code).toBe(2);
  });
});
