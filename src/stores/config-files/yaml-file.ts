/**
 * YAML config files. A key that exists has just its scalar replaced in the text, at the
 * offsets the parser reports, so every other byte — comments, blank lines, quoting,
 * indentation — stays as it was. A missing key is added through the `yaml` library's
 * document model, which keeps comments but may normalize spacing elsewhere.
 */
import { isScalar, parseDocument } from 'yaml';
import type { Assignment, FileFormat } from './types.js';

/** A scalar YAML reads back as this exact string: plain when unambiguous, else double-quoted (JSON is valid YAML). */
function scalarText(value: string): string {
  const plain = /^[A-Za-z_./][A-Za-z0-9_./@+-]*$/.test(value) && !/^(true|false|yes|no|on|off|null|~|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

export const yamlFile: FileFormat = {
  name: 'yaml',
  edit(text, assignments: Assignment[]) {
    const doc = parseDocument(text);
    // The parser's message quotes the offending line, which may hold another secret: keep
    // only what went wrong and where.
    const error = doc.errors[0];
    if (error) throw new Error(`the YAML document does not parse: ${error.code}${error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : ''}`);
    const splices: { start: number; end: number; text: string }[] = [];
    const missing: Assignment[] = [];
    for (const a of assignments) {
      const node = doc.getIn(a.key.split('.'), true);
      if (isScalar(node) && node.range && typeof node.value !== 'object') splices.push({ start: node.range[0], end: node.range[1], text: scalarText(a.value) });
      else missing.push(a);
    }
    if (missing.length) {
      for (const { key, value } of assignments) doc.setIn(key.split('.'), value);
      return doc.toString({ lineWidth: 0 });
    }
    let out = text;
    for (const s of splices.sort((x, y) => y.start - x.start)) out = out.slice(0, s.start) + s.text + out.slice(s.end);
    return out;
  },
  read(text, key) {
    const value = parseDocument(text).getIn(key.split('.'));
    return typeof value === 'string' ? value : undefined;
  },
};
