/**
 * Durable file writes: write a temp file beside the target, fsync it, move it into place,
 * fsync the directory. A crash at any point leaves the old file or the new one, never a
 * mix.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  mode?: number;
  /** Refuse (EEXIST) instead of replacing an existing file. */
  noReplace?: boolean;
}

export async function writeFileAtomic(path: string, data: Buffer | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode ?? 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (opts.noReplace) {
      // link() fails with EEXIST where rename() would silently replace.
      await link(tmp, path);
      await unlink(tmp);
    } else {
      await rename(tmp, path);
    }
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p that also makes the new directory entries durable. */
export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode });
  if (created !== undefined) await syncDir(dirname(dir));
}
