/**
 * What every registry (rotators, version stores, delivery targets, state drivers, reload
 * and health kinds, notifiers) derives from its map of definitions, written once.
 *
 * @example
 * export const notifierSchemas = schemasOf(definitions);   // for z.union / z.discriminatedUnion
 * export const notifierTypes = namesOf(definitions);
 */

/** The keys of a definitions map, typed as its keys. */
export function namesOf<D extends object>(definitions: D): (keyof D & string)[] {
  return Object.keys(definitions).filter((k): k is keyof D & string => Object.hasOwn(definitions, k));
}

/** Each definition's schema, as the non-empty list zod's unions take (a registry has at least one kind). */
export function schemasOf<S, D extends Record<string, { schema: S }>>(definitions: D): [D[keyof D]['schema'], ...D[keyof D]['schema'][]] {
  const [first, ...rest] = Object.values(definitions).map((d) => d.schema as D[keyof D]['schema']);
  if (first === undefined) throw new Error('a registry with no kinds');
  return [first, ...rest];
}
