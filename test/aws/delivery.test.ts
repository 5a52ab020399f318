/**
 * An aws-secrets-manager delivery target against moto, through the real binary: a consumer
 * gets one Secrets Manager secret in the shape its app reads (a JSON object, fields and a
 * `format`ted connection string), created when missing with its KMS key and tags, other keys
 * kept, nothing written when nothing changed, a rollback making the previous value AWSCURRENT
 * again, and refusals (exit 2, nothing changed) for a value that is not a JSON object and for
 * entries used as the other kind of store.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { motoMissing, startMoto, type MotoServer } from '../helpers/servers/moto.js';

const missing = motoMissing();
if (missing) console.warn(`skipping the Secrets Manager delivery tests: ${missing}`);

function config(name: string, extra = ''): string {
  return [
    'version: 1',
    'stores:',
    `  app-db: { type: aws-secrets-manager, region: us-east-1, name: ${name}, endpoint: "\${MOTO_ENDPOINT}"${extra} }`,
    'consumers:',
    '  api:',
    '    deliver:',
    '      - { store: app-db, key: password }',
    '      - { store: app-db, key: connection_string, format: "postgresql://app:{{ value }}@db.internal:5432/mita" }',
    '      - { store: app-db, key: previous_password, stage: previous }',
    'secrets:',
    '  - { id: db/password, type: random, length: 32, grace: 1h, consumers: [api] }',
    '',
  ].join('\n');
}

describe.skipIf(missing)('aws-secrets-manager delivery target (moto)', () => {
  let moto: MotoServer;
  let sm: SecretsManagerClient;
  let kms: KMSClient;
  const sandboxes: Sandbox[] = [];
  beforeAll(async () => {
    moto = await startMoto();
    sm = new SecretsManagerClient(moto.clientConfig);
    kms = new KMSClient(moto.clientConfig);
  });
  afterAll(async () => {
    sandboxes.forEach((s) => s.remove());
    sm?.destroy();
    kms?.destroy();
    await moto?.stop();
  });

  function sandbox(text: string): Sandbox {
    const sb = new Sandbox(text);
    Object.assign(sb.baseEnv, moto.env, { MOTO_ENDPOINT: moto.endpoint });
    sandboxes.push(sb);
    return sb;
  }
  const current = async (name: string) => JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }))).SecretString!) as Record<string, string>;
  const versions = async (name: string) => (await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions?.length ?? 0;
  const get = async (sb: Sandbox, stage = 'current') => (await sb.ok(['get', 'db/password', '--stage', stage])).stdout.trim();

  it('creates the secret with its KMS key and tags, in the app\'s shape, and keeps it in step', async () => {
    const key = await kms.send(new CreateKeyCommand({ Description: 'mita' }));
    const keyId = key.KeyMetadata!.KeyId!;
    const name = 'mita/prod/database';
    const sb = sandbox(config(name, `, kmsKeyId: ${keyId}, tags: { team: mita, env: prod }`));
    await sb.ok(['init']);
    const first = await sb.ok(['rotate', 'db/password']);
    const v1 = await get(sb);
    expect(await current(name)).toEqual({ password: v1, connection_string: `postgresql://app:${v1}@db.internal:5432/mita`, previous_password: '' });
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(d.KmsKeyId).toContain(keyId);
    expect(d.Tags).toEqual(expect.arrayContaining([{ Key: 'managed-by', Value: 'rotor' }, { Key: 'team', Value: 'mita' }, { Key: 'env', Value: 'prod' }]));
    expect(first.stdout + first.stderr).not.toContain(v1);

    await sb.ok(['rotate', 'db/password']);
    const v2 = await get(sb);
    expect(v2).not.toBe(v1);
    expect(await current(name)).toEqual({ password: v2, connection_string: `postgresql://app:${v2}@db.internal:5432/mita`, previous_password: v1 });

    // Nothing changed, nothing written: a repeated delivery adds no version.
    const before = await versions(name);
    await sb.ok(['resume']);
    expect(await versions(name)).toBe(before);

    // A rollback in grace makes the previous value AWSCURRENT again (a fresh version, not a no-op).
    await sb.ok(['rollback', 'db/password']);
    expect(await get(sb)).toBe(v1);
    expect((await current(name)).password).toBe(v1);
    expect((await current(name)).connection_string).toContain(v1);
  });

  it('sets only its keys in an existing secret', async () => {
    const name = 'event-service/prod/app';
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username: 'events', host: 'db.internal', port: 5432, password: 'old-one' }, null, 2) }));
    const sb = sandbox(config(name));
    await sb.ok(['init']);
    await sb.ok(['rotate', 'db/password']);
    const v1 = await get(sb);
    const now = await current(name);
    expect(now).toMatchObject({ username: 'events', host: 'db.internal', port: 5432, password: v1 });
    expect(now.connection_string).toBe(`postgresql://app:${v1}@db.internal:5432/mita`);
  });

  it('refuses a secret whose value is not a JSON object, and changes nothing', async () => {
    const name = 'legacy/plain';
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'just-a-password' }));
    const sb = sandbox(config(name));
    await sb.ok(['init']);
    const r = await sb.run(['rotate', 'db/password']);
    // Refused at preflight, before a version exists.
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/legacy\/plain.*JSON object/s);
    expect(r.stdout + r.stderr).not.toContain('just-a-password');
    expect((await sb.json<{ versions: unknown[] }>(['history', 'db/password'])).versions).toEqual([]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('just-a-password');
  });

  it('an entry with `name` is not a version store, one with `prefix` not a delivery target (exit 2)', async () => {
    const asStore = sandbox([
      'version: 1',
      'stores:',
      '  one: { type: aws-secrets-manager, region: us-east-1, name: app/one }',
      'secrets:',
      '  - { id: x, type: random, store: one }',
      '',
    ].join('\n'));
    const r1 = await asStore.run(['init']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/store "one" is an AWS Secrets Manager secret \(an entry with `name`\)/);

    const asTarget = sandbox(config('unused').replace('name: unused', 'prefix: apps/'));
    const r2 = await asTarget.run(['init']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/deliver into a delivery target.*keeps versions/);

    const both = sandbox(config('app/both').replace('name: app/both', 'name: app/both, prefix: apps/'));
    const r3 = await both.run(['init']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/rotor\.yaml:3.*Unrecognized key: "prefix"/);

    // A typo is named, though two kinds share the type.
    const typo = sandbox(config('app/typo').replace('region:', 'regin:'));
    const r4 = await typo.run(['init']);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/stores\.app-db: region: .*Unrecognized key: "regin"/);
  });

  it.each([
    ['an empty key part', '- { store: app-db, key: "a..b" }', /"a\.\.b" has an empty part/],
    ['a prototype key', '- { store: app-db, key: "__proto__.x" }', /__proto__/],
    ['a key inside another', '- { store: app-db, key: password.hash }', /"password\.hash" is inside "password"/],
    ['Rotor\'s own tag', null, /managed-by is Rotor's own tag/],
    ['a version store\'s own secret', undefined, /store "app-db" is where Rotor keeps db\/password's versions/],
  ])('refuses %s when the config loads (exit 2, nothing written)', async (_what, extra, message) => {
    let text = config('app/keys');
    if (extra) text = text.replace("      - { store: app-db, key: password }\n", `      - { store: app-db, key: password }\n      ${extra}\n`);
    else if (extra === null) text = text.replace('name: app/keys', 'name: app/keys, tags: { managed-by: someone }');
    else text = text.replace('stores:\n', 'stores:\n  versions: { type: aws-secrets-manager, region: us-east-1, prefix: "keep/", endpoint: "${MOTO_ENDPOINT}" }\n')
      .replace('name: app/keys', 'name: keep/db/password').replace('grace: 1h, consumers', 'grace: 1h, store: versions, consumers');
    const sb = sandbox(text);
    const r = await sb.run(['init']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(sb.files('.').has(sb.path('.rotor/state.db'))).toBe(false);
  });

  it('a `format` placeholder the value lacks is a config error (exit 2)', async () => {
    const sb = sandbox(config('app/fmt').replace('{{ value }}', '{{ passwrd }}'));
    const r = await sb.run(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/passwrd/);
  });
});
