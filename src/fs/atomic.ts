/**
 * Durable file writes: write a temp file beside the target, fsync it, move it into place,
 * fsync the directory. A crash at any point leaves the old file or the new one, never a
 * mix.
 *
 * Owner and mode are set on the temp file through its descriptor, before the rename: a
 * chown by path after it would follow whatever a user who can write the directory put
 * there in the meantime (a link to /etc/shadow, say). The mode is set explicitly because
 * the umask narrows what open() is given.
 *
 * The small steps (open, write, link) run synchronously: on files of a few hundred bytes
 * they take microseconds, far less than a hop through libuv's thread pool. Only the
 * fsyncs, which wait for the disk, run asynchronously, so concurrent rotations overlap
 * them.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fsync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';

const fsyncAsync = promisify(fsync);

export interface AtomicWriteOptions {
  /** The new file's mode (default 0600), whatever the umask. */
  mode?: number;
  /** The new file's owner and group (default: the process's). */
  owner?: { uid: number; gid: number };
  /** Refuse (EEXIST) instead of replacing an existing file. */
  noReplace?: boolean;
}

export async function writeFileAtomic(path: string, data: Buffer | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  // O_EXCL never follows a link (one planted under the temp name is an error, not a target).
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    // chown before chmod: a chown clears set-id bits the mode may carry.
    if (opts.owner && (opts.owner.uid !== process.geteuid?.() || opts.owner.gid !== process.getegid?.())) fchownSync(fd, opts.owner.uid, opts.owner.gid);
    fchmodSync(fd, opts.mode ?? 0o600);
    await fsyncAsync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    if (opts.noReplace) {
      // link() fails with EEXIST where rename() would silently replace.
      linkSync(tmp, path);
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
    }
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  await syncDir(dir);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone; the original error is the one that matters.
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p that also makes the new directory entries durable. */
export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  const created = mkdirSync(dir, { recursive: true, mode });
  if (created !== undefined) await syncDir(dirname(dir));
}
