/**
 * Config files that services read their secrets from — `.env`, JSON, YAML — as delivery
 * targets: Rotor sets keys in them and keeps everything else as it was. Each format is one
 * pure `edit` function (text in, text out); `file.ts` does the safe part every format
 * shares: backup, atomic replace, original mode and owner.
 */
import type { Assignment } from '../types.js';

export type { Assignment };

export interface FileFormat {
  /** Its `type` under rotor.yaml's `stores`. */
  name: string;
  /** The new text with every assignment made; throws on text it cannot parse (the file is then left alone). */
  edit(text: string, assignments: Assignment[]): string;
  /** The value at `key`, for checks and tests. */
  read(text: string, key: string): string | undefined;
}
