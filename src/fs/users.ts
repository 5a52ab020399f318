/**
 * User names and ids, for messages ("owned by nobody (uid 65534)") and for the `user` a
 * signal reload names. Node has no getpwnam, so /etc/passwd is read; a user only a
 * directory service knows is given by its uid.
 */
import { readFileSync } from 'node:fs';

function passwd(): { name: string; uid: number }[] {
  try {
    return readFileSync('/etc/passwd', 'utf8').split('\n').flatMap((line) => {
      const [name, , uid] = line.split(':');
      return name && uid !== undefined && /^\d+$/.test(uid) ? [{ name, uid: Number(uid) }] : [];
    });
  } catch {
    return [];
  }
}

/** `nobody (uid 65534)`, or `uid 1234` for a uid without a name. */
export function describeUid(uid: number): string {
  const name = passwd().find((u) => u.uid === uid)?.name;
  return name === undefined ? `uid ${uid}` : `${name} (uid ${uid})`;
}

/** The uid of a user name or of a uid given as a number or digits; undefined for an unknown name. */
export function uidOf(user: string | number): number | undefined {
  if (typeof user === 'number') return user;
  if (/^\d+$/.test(user)) return Number(user);
  return passwd().find((u) => u.name === user)?.uid;
}

/** The users Rotor trusts with a path: root and itself (a deploy user running Rotor). */
export function trustedUids(): Set<number> {
  return new Set([0, process.geteuid?.() ?? 0]);
}
