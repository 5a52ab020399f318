/**
 * `.env` files as dotenv, docker compose and systemd's EnvironmentFile read them. Setting a
 * key rewrites only the value on its line — comments, blank lines, order, `export`
 * prefixes, inline comments and every other key stay byte-for-byte — and appends the key
 * when it is missing.
 */
import type { Assignment, FileFormat } from './types.js';

const LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;

/** A value as a dotenv reader gets it back: bare when safe, else double-quoted with escapes. */
export function quoteEnv(value: string): string {
  if (BARE.test(value)) return value;
  return `"${value.replace(/[\\"$`]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/** Splits what follows `=` into the value as written and the rest (an inline comment). */
function splitValue(rest: string): { raw: string; tail: string } {
  const q = rest[0];
  if (q === '"' || q === "'") {
    for (let i = 1; i < rest.length; i++) {
      if (q === '"' && rest[i] === '\\') { i++; continue; }
      if (rest[i] === q) return { raw: rest.slice(0, i + 1), tail: rest.slice(i + 1) };
    }
    return { raw: rest, tail: '' };
  }
  const hash = rest.search(/\s#/);
  return hash < 0 ? { raw: rest.replace(/\s+$/, ''), tail: rest.slice(rest.replace(/\s+$/, '').length) } : { raw: rest.slice(0, hash), tail: rest.slice(hash) };
}

function unquote(raw: string): string {
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return raw.slice(1, -1);
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
    return raw.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  }
  return raw;
}

export const envFile: FileFormat = {
  name: 'env-file',
  edit(text, assignments: Assignment[]) {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.length ? text.split(/\r?\n/) : [];
    const endsWithNewline = text.endsWith('\n');
    if (endsWithNewline) lines.pop();
    for (const { key, value } of assignments) {
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`"${key}" is not a valid environment variable name`);
      let found = false;
      for (let i = 0; i < lines.length; i++) {
        const m = LINE.exec(lines[i]!);
        if (!m || m[2] !== key) continue;
        const { tail } = splitValue(m[4]!);
        lines[i] = `${m[1]}${m[2]}${m[3]}${quoteEnv(value)}${tail}`;
        found = true;
      }
      if (!found) lines.push(`${key}=${quoteEnv(value)}`);
    }
    return lines.join(eol) + (endsWithNewline || !text.length ? eol : '');
  },
  read(text, key) {
    let out: string | undefined;
    for (const line of text.split(/\r?\n/)) {
      const m = LINE.exec(line);
      if (m && m[2] === key) out = unquote(splitValue(m[4]!).raw);
    }
    return out;
  },
};
