/**
 * A new Rotor project: a starter rotor.yaml, the version stores (a local vault) and the
 * state, and a new master key in .rotor/master.key (mode 0600) unless the environment already
 * provides one. Refuses to replace anything that exists. Behind `rotor init`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { KmsMasterKeyConfig } from '../aws/kms.js';
import { dirname, resolve } from 'node:path';
import type { RotorConfig } from '../config/schema.js';
import { deriveKeys, encodeMasterKey, loadMasterKey, newMasterKey } from '../crypto/master-key.js';
import { MasterKeyError, UsageError, type ConfigProblem } from '../errors.js';
import { isVersionStoreConfig, openVersionStore } from '../stores/registry.js';
import { actorName, describeState, openConfig, openState, stateExists } from './engine.js';
import { defaultMasterKeyFile, masterKeyOf } from './master-key.js';

const STARTER = `# rotor.yaml — what Rotor rotates, where values live, who uses them.
# Reference: \`rotor schema\` prints the JSON Schema (point your editor at it).
version: 1
state: { driver: sqlite, path: .rotor/state.db }
defaults:
  grace: 1h          # how long a previous value keeps working after a rotation
  concurrency: 32    # rotations at once in a batch
stores:
  local: { type: local, path: .rotor/vault }   # encrypted, one file per version
secrets:
  - id: app/secret-key
    type: random
    length: 48
    encoding: base64url
    interval: 90d
    priority: high
  - id: api/service-token
    type: random
    length: 40
    encoding: alnum
    prefix: svc_
    interval: 30d
    grace: 15m
    priority: critical
  - id: webhooks/signing-secret
    type: random
    length: 64
    encoding: hex
    interval: 180d
    priority: medium
  - id: auth/jwt
    type: jwt-keyset
    algorithm: ES256            # HS256 | RS256 | ES256 | EdDSA
    jwksFile: public/jwks.json  # public keys for verifiers, published before a new key signs
    interval: 90d
    grace: 15m                  # at least the longest token lifetime
    priority: critical
  - id: data/field-key
    type: keyring               # AES-256-GCM keys; \`rotor reencrypt\` moves data to a new key
    interval: 180d
    grace: 7d

# Database and cache credentials rotate through an admin connection:
# targets:
#   main-db: { type: postgres, url: "\${PG_ADMIN_URL}" }     # or mysql://, redis://
# and, under secrets:
#   - id: database/primary
#     type: postgres-password     # mysql-password | redis-acl
#     target: main-db
#     strategy: alternating       # see the README for each type's strategies
#     username: app
`;

export interface InitResult {
  /** rotor.yaml, absolute. */
  file: string;
  /** Whether it was written (false: an existing one was kept). */
  wroteConfig: boolean;
  /** Where the master key comes from: ROTOR_MASTER_KEY, the ROTOR_MASTER_KEY_FILE path, or .rotor/master.key. */
  keySource: string;
  /** With KMS: what `rotor init` wrapped (a new key, or the plaintext key it found, which may now be deleted). */
  wrapped?: string;
  /** The local vaults' directories. */
  vaults: string[];
  /** The state's path. */
  state: string;
  config: RotorConfig;
}

export interface InitOptions {
  /** `--kms KEY`: keep the master key wrapped by this KMS key (rotor.yaml's `masterKey.kms`). */
  kms?: string | undefined;
}

/**
 * @param file rotor.yaml, absolute (written from the starter when missing)
 * @param onWarnings rotor.yaml's warnings, as soon as it is read (before anything else is created)
 */
export async function initProject(file: string, onWarnings: (warnings: ConfigProblem[]) => void = () => {}, opts: InitOptions = {}): Promise<InitResult> {
  const wroteConfig = !existsSync(file);
  if (wroteConfig) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, STARTER, { flag: 'wx' });
  }
  const { config, warnings } = openConfig(file);
  if (opts.kms !== undefined && config.masterKey && config.masterKey.kms.keyId !== opts.kms) {
    throw new UsageError(`rotor.yaml's masterKey.kms names ${config.masterKey.kms.keyId}, not ${opts.kms}`, 'drop --kms, or change masterKey.kms.keyId in rotor.yaml; nothing was changed');
  }
  onWarnings(warnings);

  // With --kms and no masterKey in rotor.yaml yet, the stanza is added only once the key is
  // wrapped and proven against the project's data: a failed init leaves rotor.yaml as it was.
  const kms = config.masterKey?.kms ?? (opts.kms === undefined ? undefined : { keyId: opts.kms, ciphertextFile: resolve(config.dir, KMS_FILE) });
  const addStanza = kms !== undefined && config.masterKey === undefined;
  let keySource = 'ROTOR_MASTER_KEY';
  let wrapped: { key: Buffer; said: string; ciphertext?: Buffer } | undefined;
  let origin: { key: Buffer; source: string };
  if (kms && !existsSync(kms.ciphertextFile)) {
    wrapped = await wrapNewOrExistingKey(config, kms);
    origin = { key: wrapped.key, source: `KMS ${kms.keyId} (${kms.ciphertextFile})` };
  } else {
    if (!kms && !process.env.ROTOR_MASTER_KEY) {
      if (process.env.ROTOR_MASTER_KEY_FILE) {
        keySource = process.env.ROTOR_MASTER_KEY_FILE;
      } else {
        const keyFile = defaultMasterKeyFile(config);
        keySource = keyFile;
        if (!existsSync(keyFile)) {
          if (await stateExists(config)) {
            throw new MasterKeyError(
              `${describeState(config)} exists but ${keyFile} does not: refusing to create a new key for existing data`,
              'provide the original key with ROTOR_MASTER_KEY or ROTOR_MASTER_KEY_FILE',
            );
          }
          mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
          writeFileSync(keyFile, `${encodeMasterKey(newMasterKey())}\n`, { mode: 0o600, flag: 'wx' });
        }
      }
    }
    origin = await masterKeyOf(kms ? { ...config, masterKey: { kms } } : config);
  }
  if (kms) keySource = origin.source;
  const keys = deriveKeys(origin.key);
  for (const store of Object.values(config.stores)) {
    if (isVersionStoreConfig(store)) await (await openVersionStore(store, { key: keys.vault, create: true, project: keys.keyId })).close();
  }
  const state = await openState(config, { create: true });
  try {
    if (!(await state.checkKeyId(keys.keyId))) {
      throw new MasterKeyError(`the master key is not the one ${describeState(config)} was created with`, 'use the original key; nothing was changed');
    }
    await state.useAuditKey(keys.audit);
    await state.commit([
      {
        kind: 'audit',
        event: {
          at: Date.now(), actor: actorName(), action: 'init', secretId: null, version: null, rotationId: null,
          outcome: 'info', reason: null, incident: null, detail: `state ${describeState(config)}`,
        },
      },
    ]);
  } finally {
    await state.close();
  }
  // The key opened this project's vault and state: now it may be kept under KMS.
  if (kms && wrapped?.ciphertext) writeCiphertext(kms.ciphertextFile, wrapped.ciphertext);
  if (kms && addStanza) {
    // Appended as a top-level key: the rest of the file keeps its bytes and comments.
    const text = readFileSync(file, 'utf8');
    const stanza = `\nmasterKey:\n  kms: { keyId: ${JSON.stringify(kms.keyId)}, ciphertextFile: ${KMS_FILE} }\n`;
    writeFileSync(file, `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${stanza}`);
  }
  return {
    file, wroteConfig, keySource, ...(wrapped ? { wrapped: wrapped.said } : {}),
    vaults: Object.values(config.stores).filter((s) => s.type === 'local').map((s) => s.path),
    state: describeState(config),
    config,
  };
}

/** Where `rotor init --kms` keeps the wrapped key, relative to rotor.yaml. */
const KMS_FILE = '.rotor/master.key.kms';

/**
 * The KMS ciphertext of the project's master key: the key already in use (from the
 * environment or a key file, when a project moves under KMS), or in a new project a new
 * data key from KMS, whose ciphertext is written at once (nothing else can open what the
 * vault is about to be made with). Says which, for `rotor init` to tell the user; an
 * existing key's ciphertext is returned to be written only after the key opened the project.
 */
async function wrapNewOrExistingKey(config: RotorConfig, kms: KmsMasterKeyConfig): Promise<{ key: Buffer; said: string; ciphertext?: Buffer }> {
  const { newWrappedMasterKey, wrapMasterKey } = await import('../aws/kms.js');
  const envKey = process.env.ROTOR_MASTER_KEY;
  const keyFile = process.env.ROTOR_MASTER_KEY_FILE || defaultMasterKeyFile(config);
  if ((envKey !== undefined && envKey !== '') || existsSync(keyFile)) {
    const key = loadMasterKey({ env: process.env, defaultFile: defaultMasterKeyFile(config) });
    return { key, ciphertext: await wrapMasterKey(kms, key), said: envKey ? 'the key in ROTOR_MASTER_KEY' : `the key in ${keyFile} (delete it once \`rotor get\` works without it)` };
  }
  if (await stateExists(config)) {
    throw new MasterKeyError(
      `${describeState(config)} exists but there is no master key to wrap: refusing to create a new key for existing data`,
      'provide the original key with ROTOR_MASTER_KEY or ROTOR_MASTER_KEY_FILE, and run `rotor init --kms` again to wrap it',
    );
  }
  const { key, ciphertext } = await newWrappedMasterKey(kms);
  writeCiphertext(kms.ciphertextFile, ciphertext);
  return { key, said: 'a new master key from KMS' };
}

/** Never replaces a ciphertext: another `rotor init` that wrote one first may hold the only copy of its key. */
function writeCiphertext(file: string, ciphertext: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${ciphertext.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new MasterKeyError(`${file} appeared while this init ran (another \`rotor init\` at the same time?)`, 'run `rotor init` again: it uses the key that file holds; nothing else was changed');
  }
}
