/**
 * Copies of what a delivery replaced — a consumer's `.env` as it was before the new value
 * went in — so a person can put a file back. They hold retired values, so they are sealed
 * (AES-256-GCM under a key derived from the master key for this purpose alone, with the
 * file's path and the copy's name as associated data: a copy moved to another file's place
 * does not open), and only the last `keep` of each file stay.
 *
 *   .rotor/backups/files/<name>-<hash of path>/
 *     target                          the file's path (not secret)
 *     <time>.<n>.sealed               one copy, "RTV1" envelope (crypto/envelope.ts)
 *
 * @example
 * const backups = new SealedDeliveryBackups({ dir, key: keys.deliveryBackup, keep: 5 });
 * await backups.save('/srv/api/.env', oldText);       // a delivery does this
 * backups.list();                                      // rotor backup files
 * backups.read('/srv/api/.env', backups.list()[0]!.copies[0]!);   // rotor backup files --restore
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { open, seal } from '../crypto/envelope.js';
import { IntegrityError } from '../errors.js';
import { ensureDir } from '../fs/atomic.js';
import type { DeliveryBackups } from '../fs/safe-replace.js';

export interface BackupCopy {
  /** The sealed file. */
  path: string;
  /** When the copy was taken (the text it holds was replaced then). */
  at: Date;
  /** Size of the sealed file. */
  bytes: number;
}

export interface BackedUpFile {
  /** The file the copies are of. */
  file: string;
  /** Newest first. */
  copies: BackupCopy[];
}

const NAME = /^(\d{8}T\d{6}\.\d{3}Z)\.(\d+)\.sealed$/;

export class SealedDeliveryBackups implements DeliveryBackups {
  constructor(private readonly opts: { dir: string; key: Buffer; keep: number; now?: () => Date }) {}

  /** @param at when the text was replaced (now, unless sealing an older plaintext copy) */
  async save(file: string, text: string, at?: Date): Promise<string | undefined> {
    if (this.opts.keep <= 0) return undefined;
    const dir = join(this.opts.dir, slugOf(file));
    await ensureDir(dir);
    const target = join(dir, 'target');
    // Created once, exclusively: another Rotor saving a copy of the same file at the same
    // moment neither races this check nor has a path swapped under it.
    try {
      writeFileSync(target, `${file}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const stamp = (at ?? this.opts.now?.() ?? new Date()).toISOString().replace(/[-:]/g, '');
    // Several deliveries into one file can land within one millisecond: the first copy (the
    // file before the run) must not be overwritten by the next.
    for (let n = 0; ; n++) {
      const name = `${stamp}.${n}.sealed`;
      try {
        writeFileSync(join(dir, name), seal(this.opts.key, Buffer.from(text), aad(file, name)), { mode: 0o600, flag: 'wx' });
        this.prune(dir);
        return join(dir, name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** Every file with copies, by path; copies newest first. */
  list(): BackedUpFile[] {
    return listDeliveryBackups(this.opts.dir);
  }

  /** The text a copy holds; throws IntegrityError when it was changed or moved. */
  read(file: string, copy: BackupCopy): string {
    const opened = open(this.opts.key, readFileSync(copy.path), aad(file, basename(copy.path)));
    if (!opened.ok) throw new IntegrityError(copy.path, `does not open as a backup of ${file} (${opened.reason})`);
    return opened.plaintext.toString('utf8');
  }

  private prune(dir: string): void {
    for (const { name } of copiesIn(dir).slice(this.opts.keep)) unlinkSync(join(dir, name));
  }
}

/** What `dir` holds (no key needed: paths and times are not secret). */
export function listDeliveryBackups(dir: string): BackedUpFile[] {
  if (!existsSync(dir)) return [];
  const out: BackedUpFile[] = [];
  for (const slug of readdirSync(dir)) {
    const sub = join(dir, slug);
    let file: string;
    try {
      file = readFileSync(join(sub, 'target'), 'utf8').trim();
    } catch {
      continue;
    }
    const copies = copiesIn(sub).map(({ name }) => {
      const path = join(sub, name);
      return { path, at: atOf(name), bytes: statSync(path).size };
    });
    if (copies.length) out.push({ file, copies });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

function aad(file: string, name: string): string {
  return `rotor delivery backup\0${file}\0${name}`;
}

/** One directory per file: readable, and unique by a hash of the whole path. */
function slugOf(file: string): string {
  const hash = createHash('sha256').update(file).digest('hex').slice(0, 12);
  return `${basename(file).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '')}-${hash}`;
}

/** The copies in a file's directory, newest first. */
function copiesIn(dir: string): { name: string; stamp: string; n: number }[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const m = NAME.exec(name);
      return m ? [{ name, stamp: m[1]!, n: Number(m[2]) }] : [];
    })
    .sort((a, b) => (a.stamp === b.stamp ? b.n - a.n : a.stamp < b.stamp ? 1 : -1));
}

function atOf(name: string): Date {
  const s = NAME.exec(name)![1]!;
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13)}`);
}
