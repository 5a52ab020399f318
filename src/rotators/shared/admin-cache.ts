/**
 * One admin connection (pool or client) per target, opened on first use and shared by
 * every rotation of a run. Each entry carries the parsed address and how messages name the
 * target, so no error text ever needs the URL (which holds the admin password).
 */
import { RotorError } from '../../errors.js';
import type { TargetRef } from '../types.js';
import { describeTarget, parseTargetUrl, type TargetAddress } from './target-url.js';

export interface AdminBase {
  addr: TargetAddress;
  /** "target main-db (127.0.0.1:5432)". */
  where: string;
  target: TargetRef;
}

export function adminCache<C>(opts: {
  type: string;
  defaultPort: number;
  open(target: TargetRef, addr: TargetAddress): C;
  /** A connection that can no longer be used (the server restarted) is replaced. */
  dead?(conn: C): boolean;
}) {
  const entries = new Map<string, AdminBase & { conn: C }>();
  return {
    get(target: TargetRef | undefined): AdminBase & { conn: C } {
      if (!target) throw new RotorError(`${opts.type} needs a target`, { outcome: 'usage' });
      const key = `${target.name}\0${target.url}`;
      let entry = entries.get(key);
      if (!entry || opts.dead?.(entry.conn)) {
        const addr = parseTargetUrl(target, opts.defaultPort);
        entry = { conn: opts.open(target, addr), addr, where: describeTarget(target, addr), target };
        entries.set(key, entry);
      }
      return entry;
    },
    /** Every connection opened, for close(). */
    all: (): C[] => [...entries.values()].map((e) => e.conn),
    clear: () => entries.clear(),
  };
}
