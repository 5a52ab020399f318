/**
 * Does a field path name a part of a value of this shape? Answered from the rotator's zod
 * `valueSchema` alone, so a typo in a delivery (`pasword`, `keys.O.k`) is a config error
 * when rotor.yaml loads, not a failed delivery that rolls a rotation back.
 *
 * The path syntax is consumers/fields.ts's: names and array indexes separated by dots.
 *
 * @example
 * fieldProblem(postgresValueSchema, 'password')  // undefined: fine
 * fieldProblem(postgresValueSchema, 'pasword')   // 'no field "pasword" (did you mean "password"?); …'
 * fieldProblem(jwtValueSchema, 'keys.0.kid')     // undefined
 * fieldProblem(jwtValueSchema, 'keys.2')         // '"keys" has at most 2 elements: …'
 */
import type { z } from 'zod';

type Schema = z.core.$ZodType;

/** A field path: names and list indexes separated by dots (`password`, `keys.0.kid`). */
export const FIELD_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Why `path` names no part of a value that `valueSchema` accepts; undefined when it does. */
export function fieldProblem(valueSchema: Schema, path: string): string | undefined {
  if (!FIELD_PATH.test(path)) return `"${path}" is not a field path: write names and list indexes separated by dots, like password or keys.0.kid`;
  return walk(valueSchema, path.split('.'), []);
}

function walk(schema: Schema, rest: string[], done: string[]): string | undefined {
  const [segment, ...more] = rest;
  if (segment === undefined) return undefined;
  const def = (schema as z.core.$ZodTypes)._zod.def;
  const here = done.length ? `"${done.join('.')}"` : 'the value';
  const into = (inner: Schema) => walk(inner, more, [...done, segment]);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'catch':
    case 'readonly':
      return walk(def.innerType, rest, done);
    case 'lazy':
      return walk(def.getter(), rest, done);
    case 'pipe':
      // A transform's output has no schema to look into; the input is the closest shape.
      return walk((def.out as z.core.$ZodTypes)._zod.def.type === 'transform' ? def.in : def.out, rest, done);
    case 'any':
    case 'unknown':
      return undefined;
    case 'union':
    case 'intersection': {
      const options = def.type === 'union' ? def.options : [def.left, def.right];
      const problems = options.map((o) => walk(o, rest, done));
      return problems.includes(undefined) ? undefined : problems[0];
    }
    case 'object': {
      if (Object.hasOwn(def.shape, segment)) return into(def.shape[segment]!);
      const catchall = def.catchall && (def.catchall as z.core.$ZodTypes)._zod.def.type !== 'never' ? def.catchall : undefined;
      if (catchall) return into(catchall);
      const fields = Object.keys(def.shape);
      const near = closest(segment, fields);
      return `${done.length ? `${here} has no` : 'no'} field "${segment}"${near ? ` (did you mean "${near}"?)` : ''}; ${done.length ? 'its' : 'the'} fields: ${fields.join(', ')}`;
    }
    case 'record':
      return into(def.valueType);
    case 'array':
    case 'tuple': {
      if (!/^\d+$/.test(segment)) return `${here} is a list: name an element by its index, like ${[...done, '0'].join('.')}`;
      const index = Number(segment);
      const max = def.type === 'array' ? maxLength(def) : def.rest ? Infinity : def.items.length;
      if (index >= max) return `${here} has at most ${max} element${max === 1 ? '' : 's'}: ${max === 1 ? 'index 0' : `indexes 0 to ${max - 1}`}`;
      const element = def.type === 'array' ? def.element : (def.items[index] ?? def.rest!);
      return into(element);
    }
    default:
      return `${here} is ${kindOf(def.type)}: it has no fields`;
  }
}

/** The most elements an array schema allows (`.max(n)`, `.length(n)`). */
function maxLength(def: z.core.$ZodArrayDef): number {
  let max = Infinity;
  for (const check of def.checks ?? []) {
    const c = check._zod.def as { check: string; maximum?: number; length?: number };
    if (c.check === 'max_length' && c.maximum !== undefined) max = Math.min(max, c.maximum);
    if (c.check === 'length_equals' && c.length !== undefined) max = Math.min(max, c.length);
  }
  return max;
}

const KINDS: Record<string, string> = { string: 'a string', enum: 'a string', literal: 'a string', template_literal: 'a string', number: 'a number', bigint: 'a number', boolean: 'true or false' };
const kindOf = (type: string) => KINDS[type] ?? `a ${type} value`;

/** The name within two edits of `name`, for "did you mean". */
export function closest(name: string, names: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const n of names) {
    const d = distance(name.toLowerCase(), n.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { name: n, d };
  }
  return best?.name;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
