/**
 * JSON config files, edited in place like .env: setting a dot path replaces the bytes of
 * that value and nothing else — numbers Rotor did not touch keep their digits (a big
 * integer is not rounded, 1e400 does not become null), a duplicated key is not merged,
 * inline formatting and indentation stay. (JSON has no comments to keep.)
 *
 * A key present more than once gets the new value at every place: a reader may take the
 * first or the last, and neither may keep the old value. A missing key goes into the
 * nearest object of its path that exists — the one a reader sees, the last of duplicates —
 * in that object's own style: one member per line at its indentation, or inline.
 */
import { scanJson, type JsonNode, type JsonObject } from './json-scan.js';
import type { Assignment, FileFormat } from './types.js';

type Obj = Record<string, unknown>;

/**
 * JSON.parse's messages quote the text around the error — here, a config file that may
 * hold other secrets, on its way to the audit log. Only the position is kept.
 */
function parseQuietly(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    // The cause is dropped on purpose: its message is the one that quotes the file.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`the JSON document does not parse${at === undefined ? '' : ` (at character ${at})`}`);
  }
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

const splice = (text: string, s: Splice) => text.slice(0, s.start) + s.text + text.slice(s.end);

/** Every value at `path`, through every duplicate of every key on the way. */
function valuesAt(node: JsonNode, path: string[]): JsonNode[] {
  if (!path.length) return [node];
  if (node.kind !== 'object') return [];
  return node.members.filter((m) => m.key === path[0]).flatMap((m) => valuesAt(m.value, path.slice(1)));
}

/** One assignment applied to `text`. */
function assign(text: string, key: string, value: string): string {
  const path = key.split('.');
  const root = scanJson(text);
  if (root.kind !== 'object') throw new Error('the JSON document is not an object');
  const replaced = valuesAt(root, path);
  if (replaced.length) {
    return replaced.sort((a, b) => b.start - a.start).reduce((out, node) => splice(out, { start: node.start, end: node.end, text: JSON.stringify(value) }), text);
  }
  // Missing: walk the path as a reader sees it (the last of duplicate keys).
  let node: JsonObject = root;
  for (let i = 0; i < path.length; i++) {
    const member = node.members.findLast((m) => m.key === path[i]);
    if (!member) return splice(text, insertion(text, root, node, path.slice(i), value));
    if (member.value.kind !== 'object') throw new Error(`${key}: ${path[i]} is not an object`);
    node = member.value;
  }
  return text; // not reached: a full path that exists was replaced above
}

/** The text that adds `path` = value to `obj`, in its style. */
function insertion(text: string, root: JsonObject, obj: JsonObject, path: string[], value: string): Splice {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const last = obj.members.at(-1);
  const objIndent = indentOfLine(text, obj.start);
  const unit = indentUnit(text);
  const colon = last ? text.slice(last.keyEnd, last.value.start) : ': ';
  const multiline = last ? text.slice(obj.start + 1, obj.members[0]!.keyStart).includes('\n') : obj === root;
  const memberIndent = last && multiline ? indentOfLine(text, last.keyStart) : objIndent + unit;
  const member = (indent: string, [head, ...rest]: string[]): string =>
    `${JSON.stringify(head)}${colon}${rest.length ? nested(indent, rest) : JSON.stringify(value)}`;
  const nested = (indent: string, rest: string[]): string =>
    multiline ? `{${eol}${indent}${unit}${member(indent + unit, rest)}${eol}${indent}}` : `{${member(indent, rest)}}`;
  const text0 = member(memberIndent, path);
  if (last) {
    const comma = multiline ? `,${eol}${memberIndent}` : separatorOf(text, obj);
    return { start: last.value.end, end: last.value.end, text: `${comma}${text0}` };
  }
  // An empty object: its inside is replaced.
  return { start: obj.start + 1, end: obj.end - 1, text: multiline ? `${eol}${memberIndent}${text0}${eol}${objIndent}` : text0 };
}

/** The whitespace a line starts with. */
function indentOfLine(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** One level of indentation in this file: the first indented line's, else two spaces. */
function indentUnit(text: string): string {
  return /\n([ \t]+)["{[\]}]/.exec(text)?.[1] ?? '  ';
}

/** What separates members of an inline object (`, ` or `,`). */
function separatorOf(text: string, obj: JsonObject): string {
  const [a, b] = obj.members;
  return a && b ? text.slice(a.value.end, b.keyStart) : text.slice(a!.keyEnd, a!.value.start).includes(' ') ? ', ' : ',';
}

export const jsonFile: FileFormat = {
  name: 'json',
  edit(text, assignments: Assignment[]) {
    let out = text;
    if (!out.trim()) out = `{}${text.includes('\r\n') ? '\r\n' : '\n'}`;
    const doc = parseQuietly(out);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('the JSON document is not an object');
    for (const { key, value } of assignments) out = assign(out, key, value);
    return out;
  },
  read(text, key) {
    let node: unknown = parseQuietly(text);
    for (const part of key.split('.')) node = typeof node === 'object' && node !== null ? (node as Obj)[part] : undefined;
    return typeof node === 'string' ? node : undefined;
  },
};
