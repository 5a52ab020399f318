import { randomBytes } from 'node:crypto';

/** A rotation id: sortable by time, unique across processes. */
export function newRotationId(now: number): string {
  return `r-${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}
