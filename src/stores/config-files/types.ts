/**
 * Config files that services read their secrets from — `.env`, JSON, YAML — as delivery
 * targets: Rotor sets keys in them and keeps everything else as it was. Each format is one
 * pure `edit` function (text in, text out); `file.ts` does the safe part every format
 * shares: backup, atomic replace, original mode and owner.
 */
export interface Assignment {
  /** env-file: a variable name; json/yaml: a dot path, e.g. `database.password`. */
  key: string;
  value: string;
}

export interface FileFormat {
  name: 'env-file' | 'json' | 'yaml';
  /** The new text with every assignment made; throws on text it cannot parse (the file is then left alone). */
  edit(text: string, assignments: Assignment[]): string;
  /** The value at `key`, for checks and tests. */
  read(text: string, key: string): string | undefined;
}
