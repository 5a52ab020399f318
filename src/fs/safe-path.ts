/**
 * Which files Rotor may write (or, for a pidfile, believe) when it runs as root or as a
 * deploy user and the files belong to services run by other users.
 *
 * A symlink is followed — `releases/current/.env → shared/.env` keeps its link and the
 * file it points to is updated — but only a link that could not have been pointed
 * somewhere else by a less privileged user: one owned by root, by Rotor's own user, or by
 * the owner of what it points to. A service user who owns a link can aim it only at its
 * own files.
 *
 * The file itself must sit in a directory that only root, Rotor's user and the file's
 * owner can change: otherwise another user could have put a link or a hard link to any
 * file there (and swap it again between a check and a write).
 *
 * What this cannot see: a directory higher up that others may rename (Node has no
 * openat()). The write itself never follows a link on the last component (O_NOFOLLOW,
 * O_EXCL) and checks that the file it read is the file it checked (fs/safe-replace.ts).
 *
 * @example
 * const target = resolveTarget('/srv/api/current/.env');
 * target.real   // '/srv/api/shared/.env': the file to write, links checked
 * target.stat   // its owner and mode, or undefined when it does not exist yet
 */
import { lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { RotorError } from '../errors.js';
import { describeUid, trustedUids } from './users.js';

/** A path Rotor refuses to write: it names the path and the user who could have redirected it. */
export class UnsafePathError extends RotorError {
  constructor(path: string, message: string, hint: string) {
    super(`${path} ${message}`, { outcome: 'rolled-back', hint });
  }
}

export interface Target {
  /** The path as configured. */
  path: string;
  /** The file itself: every symlink on the way followed, and checked. */
  real: string;
  /** The file as it is now (lstat of `real`); undefined when it does not exist yet. */
  stat: Stats | undefined;
  /** The symlinks followed to get there, in order. */
  links: string[];
  /** Who a new file belongs to: the directory's owner when that is a service user (who can replace the file anyway), else Rotor. */
  newOwner: { uid: number; gid: number } | undefined;
}

const MAX_LINKS = 40;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Follows `path` component by component (`..` taken after the links before it, as the
 * kernel does), checks every link and the directory of the file it ends at, and says
 * which file to write. Throws UnsafePathError, and ELOOP/ENOTDIR as the system would.
 */
export function resolveTarget(path: string): Target {
  const links: { path: string; uid: number }[] = [];
  let rest = (path.startsWith('/') ? path : `${process.cwd()}/${path}`).split('/');
  let at = '/';
  while (rest.length) {
    const part = rest.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      at = dirname(at);
      continue;
    }
    const next = at === '/' ? `/${part}` : `${at}/${part}`;
    const st = lstatOrUndefined(next);
    if (!st) {
      // What remains does not exist yet: it will be created, never followed.
      at = [next, ...rest].filter((p) => p !== '' && p !== '.').join('/');
      if (at.split('/').includes('..')) throw Object.assign(new Error(`${path}: a missing directory is followed by ..`), { code: 'ENOENT' });
      break;
    }
    if (st.isSymbolicLink()) {
      if (links.length === MAX_LINKS) throw Object.assign(new Error(`${path}: too many symbolic links`), { code: 'ELOOP' });
      links.push({ path: next, uid: st.uid });
      const to = readlinkSync(next);
      if (to.startsWith('/')) at = '/';
      rest = [...to.split('/'), ...rest];
      continue;
    }
    at = next;
  }
  const stat = lstatOrUndefined(at);
  if (stat && !stat.isFile()) throw new UnsafePathError(at, 'is not a regular file', 'point the path at a file');
  for (const link of links) checkLink(link);
  const newOwner = checkDirectory(dirname(at), stat);
  return { path, real: at, stat, links: links.map((l) => l.path), newOwner };
}

/** A link may be followed when root, Rotor's user or the owner of what it points to made it. */
function checkLink(link: { path: string; uid: number }): void {
  if (trustedUids().has(link.uid)) return;
  let target: Stats | undefined;
  try {
    target = statSync(link.path);
  } catch {
    // Dangling: it would make Rotor create a file wherever its owner chose.
  }
  if (target?.uid === link.uid) return;
  throw new UnsafePathError(
    link.path,
    `is a symbolic link owned by ${describeUid(link.uid)} to ${target ? `a file of ${describeUid(target.uid)}` : 'a file that does not exist'}: its owner could point it at any file`,
    `make root own the link (chown -h root ${link.path}), give the file it points to to the link's owner, or set the store path to the file itself`,
  );
}

/**
 * The directory a file lives in (or will be created in) must be changeable only by root,
 * Rotor's user and the file's owner: not world-writable, not owned by another user, and
 * not group-writable by a group other than root's (or Rotor's own) when a trusted user
 * owns it — its members could replace the file with their own and be handed the secret.
 * A missing directory is judged by the nearest one that exists.
 */
function checkDirectory(dir: string, file: Stats | undefined): Target['newOwner'] {
  let existing = dir;
  let st = statOrUndefined(existing);
  while (!st && existing !== '/') st = statOrUndefined((existing = dirname(existing)));
  if (!st) return undefined;
  const trusted = trustedUids();
  const fix = `chmod o-w,g-w ${existing} or chown root ${existing}`;
  if (st.mode & 0o002) throw new UnsafePathError(existing, `is writable by every user: anyone could replace ${file ? 'the file' : 'a new file'} in it`, `${fix}, or deliver into another directory`);
  const fileUid = file?.uid ?? (existing === dir ? st.uid : undefined);
  if (!trusted.has(st.uid) && st.uid !== fileUid) {
    throw new UnsafePathError(
      existing,
      `is owned by ${describeUid(st.uid)}, who could swap ${file ? `the file of ${describeUid(file.uid)}` : 'a new file'} in it for a link to any file`,
      `chown the file to ${describeUid(st.uid)}, or move it to a directory owned by root`,
    );
  }
  const trustedGids = new Set([0, process.getegid?.() ?? 0]);
  if (st.mode & 0o020 && !trustedGids.has(st.gid) && trusted.has(st.uid)) {
    throw new UnsafePathError(existing, `is writable by group ${st.gid}, whose members could replace the file with their own`, fix);
  }
  if (file || existing !== dir || trusted.has(st.uid)) return undefined;
  return { uid: st.uid, gid: st.gid };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A file Rotor believes (a pidfile) must not be writable by anyone but root, Rotor's user
 * and its owner: then only its owner chooses what it says.
 */
export function checkNotWritableByOthers(path: string, st: Stats): void {
  const trustedGids = new Set([0, process.getegid?.() ?? 0]);
  if (st.mode & 0o002) throw new UnsafePathError(path, 'is writable by every user', `chmod o-w ${path}`);
  if (st.mode & 0o020 && !trustedGids.has(st.gid)) throw new UnsafePathError(path, `is writable by group ${st.gid}, not only by its owner ${describeUid(st.uid)}`, `chmod g-w ${path}`);
}
