/**
 * `.env` files as dotenv, docker compose and systemd's EnvironmentFile read them. Setting a
 * key rewrites only its value — comments, blank lines, order, `export` prefixes, inline
 * comments and every other key stay byte-for-byte — and appends the key when it is missing.
 *
 * A quoted value may span lines (a PEM block in double or single quotes): the whole of it
 * is the value, replaced whole, and lines inside it are never taken for keys. A new value
 * with line breaks keeps that multi-line form when the old one had it.
 */
import type { Assignment, FileFormat } from './types.js';

const LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;
const QUOTES = new Set(['"', "'", '`']);

/** A value as a dotenv reader gets it back: bare when safe, else double-quoted with escapes. */
export function quoteEnv(value: string): string {
  if (BARE.test(value)) return value;
  return `"${value.replace(/[\\"$`]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/**
 * `value` in the multi-line form of `quote`, or undefined when that quote cannot hold it
 * (single quotes and backticks escape nothing).
 */
function quoteMultiline(value: string, quote: string, eol: string): string | undefined {
  const body = value.replace(/\r?\n/g, eol);
  if (quote === '"') return `"${body.replace(/[\\"$`]/g, '\\$&')}"`;
  return body.includes(quote) ? undefined : `${quote}${body}${quote}`;
}

/** One `KEY=value` entry: where its value starts and ends in the text, and the key. */
interface Entry {
  key: string;
  /** Offsets of the value as written (quotes included) in the whole text. */
  start: number;
  end: number;
  raw: string;
}

/**
 * Every entry of the text, in order. A quoted value runs to its closing quote, across
 * lines if need be; one never closed is read as the rest of its line (as before).
 */
function entries(text: string): Entry[] {
  const out: Entry[] = [];
  let at = 0;
  while (at < text.length) {
    const lineEnd = endOfLine(text, at);
    const m = LINE.exec(text.slice(at, lineEnd));
    if (!m) {
      at = nextLine(text, lineEnd);
      continue;
    }
    const start = at + m[1]!.length + m[2]!.length + m[3]!.length;
    const close = QUOTES.has(text[start]!) ? closingQuote(text, start) : -1;
    if (close >= 0) {
      out.push({ key: m[2]!, start, end: close + 1, raw: text.slice(start, close + 1) });
      at = nextLine(text, endOfLine(text, close));
      continue;
    }
    const raw = unquotedValue(text.slice(start, lineEnd));
    out.push({ key: m[2]!, start, end: start + raw.length, raw });
    at = nextLine(text, lineEnd);
  }
  return out;
}

/** End of the line's content (before `\r\n` or `\n`). */
function endOfLine(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  const end = nl < 0 ? text.length : nl;
  return end > from && text[end - 1] === '\r' ? end - 1 : end;
}

function nextLine(text: string, lineEnd: number): number {
  const nl = text.indexOf('\n', lineEnd);
  return nl < 0 ? text.length : nl + 1;
}

/** Index of the quote that closes the one at `start`, or -1. Double quotes and backticks skip backslash escapes. */
function closingQuote(text: string, start: number): number {
  const q = text[start]!;
  for (let i = start + 1; i < text.length; i++) {
    if (q !== "'" && text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === q) return i;
  }
  return -1;
}

/** An unquoted value, or an unclosed quote: up to an inline ` #` comment or trailing blanks. */
function unquotedValue(rest: string): string {
  if (QUOTES.has(rest[0]!)) return rest;
  const hash = rest.search(/\s#/);
  return (hash < 0 ? rest : rest.slice(0, hash)).replace(/\s+$/, '');
}

function unquote(raw: string): string {
  const q = raw[0];
  if (raw.length < 2 || !QUOTES.has(q!) || !raw.endsWith(q!)) return raw;
  const body = raw.slice(1, -1).replace(/\r\n/g, '\n');
  if (q === "'") return body;
  return body.replace(/\\(.)/gs, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

export const envFile: FileFormat = {
  name: 'env-file',
  edit(text, assignments: Assignment[]) {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const found = entries(text);
    const splices: { start: number; end: number; text: string }[] = [];
    const appended: string[] = [];
    for (const { key, value } of assignments) {
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`"${key}" is not a valid environment variable name`);
      const mine = found.filter((e) => e.key === key);
      // Every occurrence: a reader may take the first or the last, and neither may keep the old value.
      for (const e of mine) {
        const multiline = /[\r\n]/.test(e.raw) && /[\r\n]/.test(value);
        const written = (multiline ? quoteMultiline(value, e.raw[0]!, eol) : undefined) ?? quoteEnv(value);
        const i = splices.findIndex((s) => s.start === e.start);
        if (i >= 0) splices.splice(i, 1);
        splices.push({ start: e.start, end: e.end, text: written });
      }
      if (!mine.length) {
        const i = appended.findIndex((line) => line.startsWith(`${key}=`));
        if (i >= 0) appended.splice(i, 1);
        appended.push(`${key}=${quoteEnv(value)}`);
      }
    }
    let out = text;
    for (const s of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.text + out.slice(s.end);
    if (!appended.length) return out;
    const lead = out.length && !out.endsWith('\n') ? eol : '';
    const trail = out.endsWith('\n') || !out.length ? eol : '';
    return `${out}${lead}${appended.join(eol)}${trail}`;
  },
  read(text, key) {
    let out: string | undefined;
    for (const e of entries(text)) if (e.key === key) out = unquote(e.raw);
    return out;
  },
};
