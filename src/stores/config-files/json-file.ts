/**
 * JSON config files: set a value at a dot path, keep every other key, the key order and the
 * file's indentation and final newline. (JSON has no comments to keep.)
 */
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

function detectIndent(text: string): string | number {
  const m = /^[{[]\r?\n([ \t]+)/.exec(text);
  return m ? m[1]! : text.trimStart().startsWith('{') && !text.includes('\n') ? 0 : 2;
}

export const jsonFile: FileFormat = {
  name: 'json',
  edit(text, assignments: Assignment[]) {
    const doc = (text.trim() ? parseQuietly(text) : {}) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('the JSON document is not an object');
    for (const { key, value } of assignments) {
      const path = key.split('.');
      let node = doc as Obj;
      for (const part of path.slice(0, -1)) {
        const next = node[part];
        if (next === undefined) node[part] = {};
        else if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new Error(`${key}: ${part} is not an object`);
        node = node[part] as Obj;
      }
      node[path[path.length - 1]!] = value;
    }
    const indent = detectIndent(text);
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    let out = JSON.stringify(doc, null, indent);
    if (eol === '\r\n') out = out.replace(/\n/g, '\r\n');
    return text.endsWith('\n') || !text.length ? out + eol : out;
  },
  read(text, key) {
    let node: unknown = JSON.parse(text);
    for (const part of key.split('.')) node = typeof node === 'object' && node !== null ? (node as Obj)[part] : undefined;
    return typeof node === 'string' ? node : undefined;
  },
};
