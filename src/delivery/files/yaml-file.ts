/**
 * YAML config files, edited in place: only the assigned value's bytes change. An existing
 * key has its value replaced at the offsets the parser reports (a literal block `|` stays
 * a literal block); a missing key is written into the nearest mapping of its path that
 * exists, at that mapping's indentation (or inline, in a flow mapping `{…}`). The `yaml`
 * library never re-serializes the document, which would rewrite values Rotor did not touch
 * (an octal-looking 0755 becomes 755, quoting and spacing change).
 *
 * Each edit is checked by parsing the result: the key must read back as the value given.
 */
import { isAlias, isMap, isScalar, parse, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import type { Assignment, FileFormat } from './types.js';

/** A scalar YAML reads back as this exact string: plain when unambiguous, else double-quoted (JSON is valid YAML). */
function scalarText(value: string): string {
  const plain = /^[A-Za-z_./][A-Za-z0-9_./@+-]*$/.test(value) && !/^(true|false|yes|no|on|off|null|~|y|n)$/i.test(value) && readsAs(value, value);
  return plain ? value : JSON.stringify(value);
}

function readsAs(text: string, value: string): boolean {
  try {
    return parse(text) === value;
  } catch {
    return false;
  }
}

function parsed(text: string): Document {
  const doc = parseDocument(text);
  // The parser's message quotes the offending line, which may hold another secret: keep
  // only what went wrong and where.
  const error = doc.errors[0];
  if (error) throw new Error(`the YAML document does not parse: ${error.code}${error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : ''}`);
  return doc;
}

const eolOf = (text: string) => (text.includes('\r\n') ? '\r\n' : '\n');
const columnOf = (text: string, at: number) => at - (text.lastIndexOf('\n', at - 1) + 1);
/** One level of indentation in this file: the first indented line's, else two spaces. */
const unitOf = (text: string) => /\n( +)[^\s-]/.exec(text)?.[1] ?? '  ';

interface Splice {
  start: number;
  end: number;
  text: string;
}

/** The texts that may replace an existing value, in order of preference. */
function replacements(text: string, node: Node, value: string): Splice[] {
  const [start, end] = node.range!;
  const old = text.slice(start, end);
  if (start === end) return [{ start, end, text: ` ${scalarText(value)}` }]; // `key:` with nothing after it
  // A block scalar's range runs through its last line break, which the next line needs.
  const trailing = /^[|>]/.test(old) ? /(\r?\n[ \t]*)*$/.exec(old)![0] : '';
  const block = old.startsWith('|') ? literalBlock(text, old, value) : undefined;
  return [...(block === undefined ? [] : [{ start, end, text: block + trailing }]), { start, end, text: scalarText(value) + trailing }];
}

/**
 * `value` as a literal block (`|`) at the indentation the old block's content had, so a PEM
 * stays readable; undefined when a literal block cannot hold it as is (leading blanks,
 * carriage returns, no line break at all).
 */
function literalBlock(text: string, old: string, value: string): string | undefined {
  const indent = /\n( +)\S/.exec(old)?.[1];
  if (indent === undefined || !value.includes('\n') || /^[ \t\n]|\r/.test(value)) return undefined;
  const eol = eolOf(text);
  const body = value.replace(/\n+$/, '');
  const breaks = value.length - body.length;
  const chomp = breaks === 0 ? '-' : breaks === 1 ? '' : '+';
  const lines = body.split('\n').map((l) => (l ? indent + l : ''));
  return `|${chomp}${eol}${lines.join(eol)}${chomp === '+' ? eol.repeat(breaks - 1) : ''}`;
}

/** `path` = value as a new entry: nested keys one level deeper each (block), or `{…}` (flow). */
function entryText(text: string, indent: string, [head, ...rest]: string[], value: string, flow: boolean): string {
  const eol = eolOf(text);
  const unit = unitOf(text);
  const k = scalarText(head!);
  if (!rest.length) return `${k}: ${scalarText(value)}`;
  return flow ? `${k}: {${entryText(text, '', rest, value, true)}}` : `${k}:${eol}${indent}${unit}${entryText(text, indent + unit, rest, value, false)}`;
}

/** The text that adds `path` = value at the end of the mapping `map`, in its style. */
function insertion(text: string, map: YAMLMap, path: string[], value: string): Splice {
  const eol = eolOf(text);
  if (map.flow) {
    const close = map.range![1] - 1;
    return { start: close, end: close, text: `${map.items.length ? ', ' : ''}${entryText(text, '', path, value, true)}` };
  }
  const indent = ' '.repeat(columnOf(text, (map.items[0]!.key as Node).range![0]));
  const at = map.range![1];
  const atLineStart = at === 0 || text[at - 1] === '\n';
  return { start: at, end: at, text: `${atLineStart ? '' : eol}${indent}${entryText(text, indent, path, value, false)}${atLineStart ? eol : ''}` };
}

/** An empty `key:` (or `key: ~`) becomes a mapping one level under its key. */
function underNull(text: string, node: Node, keyColumn: number, path: string[], value: string): Splice {
  const indent = ' '.repeat(keyColumn) + unitOf(text);
  const [start, end] = node.range!;
  return { start, end, text: `${eolOf(text)}${indent}${entryText(text, indent, path, value, false)}` };
}

/** An empty document (or only comments): the key at the top level, after what is there. */
function appendTop(text: string, path: string[], value: string): string {
  const eol = eolOf(text);
  const lead = text.length && !text.endsWith('\n') ? eol : '';
  return `${text}${lead}${entryText(text, '', path, value, false)}${eol}`;
}

/** The texts that make `key` = value, in order of preference. */
function candidates(text: string, key: string, value: string): string[] {
  const path = key.split('.');
  const doc = parsed(text);
  const apply = (s: Splice) => text.slice(0, s.start) + s.text + text.slice(s.end);
  const node = doc.getIn(path, true) as Node | undefined;
  if (node && (isAlias(node) || (isScalar(node) && (typeof node.value !== 'object' || node.value === null))) && node.range) {
    return replacements(text, node, value).map(apply);
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return [appendTop(text, path, value)];
  if (!isMap(doc.contents)) throw new Error('the YAML document is not a mapping');
  let map: YAMLMap = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === path[i]);
    if (!pair) return [apply(insertion(text, map, path.slice(i), value))];
    const next = pair.value as Node | null;
    const keyColumn = columnOf(text, (pair.key as Node).range![0]);
    if (isScalar(next) && next.value === null && next.range) return [apply(underNull(text, next, keyColumn, path.slice(i + 1), value))];
    if (!isMap(next)) throw new Error(`${key}: ${path[i]} is not a mapping`);
    map = next;
  }
  throw new Error(`${key} is a mapping, not a value`);
}

export const yamlFile: FileFormat = {
  name: 'yaml',
  edit(text, assignments: Assignment[]) {
    let out = text;
    for (const { key, value } of assignments) {
      const next = candidates(out, key, value).find((c) => yamlFile.read(c, key) === value && !parseDocument(c).errors.length);
      if (next === undefined) throw new Error(`${key} cannot be set in this YAML document without changing what else it says`);
      out = next;
    }
    for (const { key, value } of assignments) if (yamlFile.read(out, key) !== value) throw new Error(`${key} cannot be set in this YAML document`);
    return out;
  },
  read(text, key) {
    const value = parseDocument(text).getIn(key.split('.'));
    return typeof value === 'string' ? value : undefined;
  },
};
