/**
 * Template placeholders: `{{ FIELD }}` is a part of the current value, `{{ value }}` the
 * whole value (a string as is, a structured value as JSON), and a `previous.` prefix reads
 * the previous version instead — `{{ previous.password }}`, `{{ previous.value }}` — which
 * is an empty string when there is none (first rotation, after retire). FIELD is what a
 * delivery's `field` takes (consumers/fields.ts).
 *
 * Only `{{ … }}` holding a name or dot path is a placeholder; other braces (`{{ .Values.x }}`
 * for another tool) are left as written.
 *
 * @example
 * // app.json.tmpl for an HS256 service that verifies with both secrets during grace:
 * { "jwt": { "current": "{{ secret }}", "previous": "{{ previous.secret }}" } }
 */

export interface Placeholder {
  /** As written between the braces, e.g. `previous.password`. */
  text: string;
  stage: 'current' | 'previous';
  /** The field path, or undefined for the whole value. */
  field: string | undefined;
  /** 1-based line in the template. */
  line: number;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

function parse(text: string, index: number, source: string): Placeholder {
  const previous = text.startsWith('previous.');
  const rest = previous ? text.slice('previous.'.length) : text;
  const line = source.slice(0, index).split('\n').length;
  return { text, stage: previous ? 'previous' : 'current', field: rest === 'value' ? undefined : rest, line };
}

/** Every placeholder of a template, in order. */
export function placeholdersIn(source: string): Placeholder[] {
  return [...source.matchAll(PLACEHOLDER)].map((m) => parse(m[1]!, m.index, source));
}

/** `source` with each placeholder replaced by `fill(it)`. */
export function fillTemplate(source: string, fill: (p: Placeholder) => string): string {
  return source.replace(PLACEHOLDER, (_match, text: string, index: number) => fill(parse(text, index, source)));
}
