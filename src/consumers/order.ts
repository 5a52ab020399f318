/**
 * One order for all consumers. Each secret lists its consumers in the order they get a new
 * value; when one run rotates several secrets of a consumer it is reloaded once, so those
 * per-secret orders must agree on one order for the run. Config rules refuse lists that
 * contradict each other; the rounds walk consumers in the order found here.
 */

export type ConsumerOrder =
  | { ok: true; order: string[] }
  /** `consumers` cannot be ordered: the lists of `secrets` put them in contradicting orders. */
  | { ok: false; consumers: string[]; secrets: string[] };

/**
 * A topological order of consumers over "listed before" in any secret's list; ties keep the
 * order consumers are declared in rotor.yaml, so runs are repeatable.
 */
export function consumerOrder(declared: string[], secrets: { id: string; consumers: string[] }[]): ConsumerOrder {
  // a → b → the first secret that lists a before b
  const before = new Map<string, Map<string, string>>();
  for (const s of secrets) {
    s.consumers.forEach((a, i) => {
      for (const b of s.consumers.slice(i + 1)) {
        if (a === b) continue;
        const edges = before.get(a) ?? new Map<string, string>();
        if (!edges.has(b)) edges.set(b, s.id);
        before.set(a, edges);
      }
    });
  }

  const names = [...new Set([...declared, ...secrets.flatMap((s) => s.consumers)])];
  const indegree = new Map(names.map((n) => [n, 0]));
  for (const edges of before.values()) for (const b of edges.keys()) indegree.set(b, indegree.get(b)! + 1);
  const order: string[] = [];
  const placed = new Set<string>();
  for (;;) {
    const next = names.find((n) => !placed.has(n) && indegree.get(n) === 0);
    if (next === undefined) break;
    order.push(next);
    placed.add(next);
    for (const b of before.get(next)?.keys() ?? []) indegree.set(b, indegree.get(b)! - 1);
  }
  if (order.length === names.length) return { ok: true, order };

  // What is left holds a cycle: name its consumers and the secrets whose lists make it.
  const stuck = names.filter((n) => !placed.has(n));
  const inCycle = new Set(stuck);
  const blamed = new Set<string>();
  for (const a of stuck) for (const [b, secret] of before.get(a) ?? []) if (inCycle.has(b)) blamed.add(secret);
  return { ok: false, consumers: stuck, secrets: [...blamed].sort() };
}
