/**
 * A lenient view of a raw rotor.yaml document for the reference rules: whatever has the
 * right shape is kept, whatever does not is left out, so references can be checked even
 * where the schema found problems. Defaults mirror schema.ts (a secret's store is `local`,
 * and the `local` store always exists).
 */
export interface LenientView {
  secrets: { index: number; id?: string; type?: string; store: string; target?: string; consumers: string[]; after: string[] }[];
  consumers: Record<string, { deliver: { secret?: string; store?: string }[]; reload: Record<string, unknown>[]; health: Record<string, unknown>[] }>;
  targets: Record<string, { type?: string }>;
  /** Each entry as written (its `type` a string or absent): version store or delivery target is told by its fields too. */
  stores: Record<string, { type?: string } & Record<string, unknown>>;
  /** Secret id → where it is first defined (its index under `secrets:` in the document). */
  firstIndex: Map<string, number>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const texts = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const records = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);
const byName = <T>(v: unknown, fn: (r: Record<string, unknown>) => T): Record<string, T> =>
  isRecord(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => isRecord(x)).map(([k, x]) => [k, fn(x as Record<string, unknown>)])) : {};

const views = new WeakMap<object, LenientView>();

export function lenientView(js: unknown): LenientView {
  if (isRecord(js) && views.has(js)) return views.get(js)!;
  const doc = isRecord(js) ? js : {};
  const view: LenientView = {
    secrets: (Array.isArray(doc.secrets) ? doc.secrets : []).flatMap((s: unknown, index) => (isRecord(s)
      ? [{ index, id: text(s.id), type: text(s.type), store: text(s.store) ?? 'local', target: text(s.target), consumers: texts(s.consumers), after: texts(s.after) }]
      : [])),
    consumers: byName(doc.consumers, (c) => ({
      deliver: records(c.deliver).map((d) => ({ secret: text(d.secret), store: text(d.store) })),
      reload: records(c.reload),
      health: records(c.health),
    })),
    targets: byName(doc.targets, (t) => ({ type: text(t.type) })),
    stores: { local: { type: 'local' }, ...byName(doc.stores, (s) => ({ ...s, type: text(s.type) })) },
    firstIndex: new Map(),
  };
  for (const s of view.secrets) if (s.id !== undefined && !view.firstIndex.has(s.id)) view.firstIndex.set(s.id, s.index);
  if (isRecord(js)) views.set(js, view);
  return view;
}
