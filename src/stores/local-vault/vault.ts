/**
 * The local vault: one encrypted file per version under
 * `.rotor/vault/<secret>/v<N>-<rotation>.enc`, the rotation id also bound into the
 * encryption's associated data, so a file can neither be renamed into another version
 * nor be taken up by another rotation of the same number (an older state restored by hand
 * must not bring back a value a later rotation made and retired). Files an older Rotor
 * wrote (`v<N>.enc`, no rotation) are still read, but never reused by a new rotation.
 * Files are written once (atomic, no replace) and never rewritten, so a crash or a bug can
 * lose at most a version that was never used. A KEYCHECK file encrypted at init tells a
 * wrong master key apart from damaged data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open as openEnvelope, seal } from '../../crypto/envelope.js';
import { IntegrityError, MasterKeyError } from '../../errors.js';
import { ensureDir, writeFileAtomic } from '../../fs/atomic.js';
import type { GetVersionRequest, PutVersionRequest, VersionStore } from '../types.js';

const KEYCHECK = 'KEYCHECK';
const KEYCHECK_PLAINTEXT = 'rotor vault key check v1';

export interface LocalVaultOptions {
  dir: string;
  key: Buffer;
}

export class LocalVault implements VersionStore {
  readonly kind = 'local';
  private readonly dir: string;
  private readonly key: Buffer;
  private checked = false;
  /** Secret directories known to exist, so each rotation does not ask the filesystem again. */
  private readonly knownDirs = new Set<string>();

  constructor(opts: LocalVaultOptions) {
    this.dir = opts.dir;
    this.key = opts.key;
  }

  /** Creates the vault directory and its key check, once. */
  async initialize(): Promise<void> {
    await ensureDir(this.dir);
    const file = join(this.dir, KEYCHECK);
    if (!existsSync(file)) {
      await writeFileAtomic(file, seal(this.key, Buffer.from(KEYCHECK_PLAINTEXT), KEYCHECK), { noReplace: true }).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
    }
    this.checkKey();
  }

  /** Throws MasterKeyError when the vault was made with another key. */
  checkKey(): void {
    if (this.checked) return;
    const file = join(this.dir, KEYCHECK);
    let blob: Buffer;
    try {
      blob = readFileSync(file);
    } catch {
      throw new MasterKeyError(`${this.dir} is not an initialized vault (no ${KEYCHECK})`, 'run `rotor init`, or point the `local` store at the right directory');
    }
    const opened = openEnvelope(this.key, blob, KEYCHECK);
    if (!opened.ok) {
      if (opened.reason === 'authentication-failed') {
        throw new MasterKeyError(
          `the master key does not open the vault at ${this.dir}`,
          'use the master key this vault was created with (ROTOR_MASTER_KEY, ROTOR_MASTER_KEY_FILE or .rotor/master.key); nothing was changed',
        );
      }
      throw new IntegrityError(file, `the vault key check is damaged (${opened.reason})`);
    }
    this.checked = true;
  }

  private secretDir(secretId: string): string {
    return join(this.dir, encodeURIComponent(secretId));
  }

  private file(r: GetVersionRequest): string {
    return join(this.secretDir(r.secretId), `v${r.version}-${r.rotationId}.enc`);
  }

  private legacyFile(r: GetVersionRequest): string {
    return join(this.secretDir(r.secretId), `v${r.version}.enc`);
  }

  async putVersion(req: PutVersionRequest): Promise<void> {
    this.checkKey();
    const dir = this.secretDir(req.secretId);
    if (!this.knownDirs.has(dir)) {
      await ensureDir(dir);
      this.knownDirs.add(dir);
    }
    if (!SAFE_ROTATION_ID.test(req.rotationId)) throw new Error(`unusable rotation id ${JSON.stringify(req.rotationId)}`);
    const blob = seal(this.key, Buffer.from(req.plaintext, 'utf8'), aad(req));
    try {
      await writeFileAtomic(this.file(req), blob, { noReplace: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Already stored: fine when it is the same value, never replaced when it is not.
      if ((await this.getVersion({ ...req, exact: true })) === req.plaintext) return;
      throw new IntegrityError(this.file(req), 'version already stored with another value; refusing to overwrite');
    }
  }

  async getVersion(req: GetVersionRequest): Promise<string | undefined> {
    this.checkKey();
    if (!SAFE_ROTATION_ID.test(req.rotationId)) return undefined;
    let file = this.file(req);
    let associated = aad(req);
    let blob = readIfThere(file);
    if (blob === undefined && !req.exact) {
      file = this.legacyFile(req);
      associated = legacyAad(req);
      blob = readIfThere(file);
    }
    if (blob === undefined) return undefined;
    const opened = openEnvelope(this.key, blob, associated);
    if (!opened.ok) {
      // The key check passed, so the key is right: the file itself changed.
      const what = opened.reason === 'authentication-failed' ? 'its content was changed or it belongs elsewhere' : opened.reason.replace(/-/g, ' ');
      throw new IntegrityError(file, `vault file failed its integrity check: ${what}`);
    }
    return opened.plaintext.toString('utf8');
  }

  async close(): Promise<void> {}
}

const aad = (r: { secretId: string; version: number; rotationId: string }) => `rotor-vault/v2\0${r.secretId}\0${r.version}\0${r.rotationId}`;
const legacyAad = (r: { secretId: string; version: number }) => `rotor-vault/v1\0${r.secretId}\0${r.version}`;

/** Rotation ids become part of file names. */
const SAFE_ROTATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

function readIfThere(file: string): Buffer | undefined {
  try {
    // A vault file is a few hundred bytes in the page cache: a synchronous read is cheaper than four thread-pool hops.
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
