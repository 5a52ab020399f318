/**
 * Plaintext copies that older versions of Rotor kept of every file it delivered into, forever:
 * `.rotor/backups/<store>/<name>.<time>` and `.rotor/backups/templates/<name>.<time>`. They
 * hold retired values. `rotor backup files --seal-legacy` seals each one whose file it can
 * name (a store's path; a template's `to` with that name) and deletes the plaintext.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { RotorConfig } from '../config/schema.js';
import { isDeliveryTargetConfig } from '../delivery/registry.js';

export interface LegacyCopy {
  /** The plaintext copy. */
  path: string;
  /** The file it is a copy of, when the config tells; undefined when it cannot. */
  file: string | undefined;
  /** When it was taken (from its name). */
  at: Date | undefined;
}

const NAME = /^(.*)\.(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z(?:\.\d+)?$/;

export function legacyCopies(config: RotorConfig): LegacyCopy[] {
  const root = join(config.dir, '.rotor', 'backups');
  if (!existsSync(root)) return [];
  const templates = Object.values(config.consumers).flatMap((c) => c.deliver.flatMap((d) => ('template' in d ? [resolve(config.dir, d.to)] : [])));
  const out: LegacyCopy[] = [];
  for (const dir of readdirSync(root)) {
    if (dir === 'files' || !statSync(join(root, dir)).isDirectory()) continue;
    const store = config.stores[dir];
    for (const name of readdirSync(join(root, dir))) {
      const m = NAME.exec(name);
      const at = m ? new Date(`${m[2]}T${m[3]}:${m[4]}:${m[5]}.${m[6]}Z`) : undefined;
      let file: string | undefined;
      if (dir === 'templates') {
        const named = templates.filter((t) => basename(t) === m?.[1]);
        file = new Set(named).size === 1 ? named[0] : undefined;
      } else if (store && isDeliveryTargetConfig(store) && 'path' in store && basename(store.path) === m?.[1]) {
        file = store.path;
      }
      out.push({ path: join(root, dir, name), file, at });
    }
  }
  return out;
}
