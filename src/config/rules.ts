/**
 * Cross-references and constraints that a schema cannot express, as named rules (as in
 * changesets' config): each returns every problem it finds, errors and warnings together,
 * so a user fixes everything in one pass.
 *
 * Reference rules read a lenient view of the raw document (rules/view.ts), so they run even
 * when the schema found problems elsewhere: an unknown consumer is reported beside a
 * misspelt field, not after it is fixed. Rules that need the whole normalized config (value
 * shapes, durations, the consumer order) run once the schema passes.
 */
import { healthStepProblems } from '../consumers/health/registry.js';
import { consumerOrder } from '../consumers/order.js';
import { reloadStepProblems } from '../consumers/reload/registry.js';
import { deliveryTargets, deliveryTargetTypes, isDeliveryTargetConfig, isDeliveryTargetType } from '../delivery/registry.js';
import { rotatorRegistry, isRotatorType } from '../rotators/registry.js';
import { isVersionStoreConfig, versionStores, versionStoreTypes } from '../stores/registry.js';
import type { AnyRotatorDefinition } from '../rotators/types.js';
import { checkDeliveries } from './delivery-rules.js';
import { formatDuration } from './duration.js';
import type { RotorConfig } from './schema.js';
import { lenientView, type LenientView } from './rules-view.js';

export interface RuleProblem {
  at: (string | number)[];
  message: string;
  severity?: 'error' | 'warning';
}

/** A rule over the raw document: runs whatever else is wrong with it. */
export interface ReferenceRule {
  name: string;
  check(view: LenientView): RuleProblem[];
}

/** A rule over the validated, normalized config. */
export interface ConfigRule {
  name: string;
  check(config: RotorConfig, view: LenientView): RuleProblem[];
}

export const uniqueSecretIds: ReferenceRule = {
  name: 'unique secret ids',
  check: (v) => v.secrets.flatMap((s) => {
    const first = s.id === undefined ? undefined : v.firstIndex.get(s.id);
    return first !== undefined && first !== s.index
      ? [{ at: ['secrets', s.index, 'id'], message: `duplicate id "${s.id}" (first defined as secrets[${first}])` }]
      : [];
  }),
};

export const secretStoresExist: ReferenceRule = {
  name: 'a secret keeps its versions in a version store',
  check: (v) => v.secrets.flatMap((s) => {
    const store = v.stores[s.store];
    if (!store) return [{ at: ['secrets', s.index, 'store'], message: `unknown store "${s.store}"; define it under \`stores\`` }];
    if (!isVersionStoreConfig(store)) {
      const what = isDeliveryTargetConfig(store) ? deliveryTargets[store.type].noun : `a ${store.type} file`;
      return [{ at: ['secrets', s.index, 'store'], message: `store "${s.store}" is ${what} that consumers deliver into; versions live in a ${versionStoreTypes.join(' or ')} store` }];
    }
    return [];
  }),
};

export const secretConsumersExist: ReferenceRule = {
  name: 'a secret names consumers that exist',
  check: (v) => v.secrets.flatMap((s) => s.consumers.flatMap((c, j) =>
    Object.hasOwn(v.consumers, c) ? [] : [{ at: ['secrets', s.index, 'consumers', j], message: `unknown consumer "${c}"; define it under \`consumers\`` }])),
};

export const secretTargetsFit: ReferenceRule = {
  name: 'a secret names a target of the kind its type rotates',
  check: (v) => v.secrets.flatMap((s): RuleProblem[] => {
    const out: RuleProblem[] = [];
    const wanted = s.type !== undefined && isRotatorType(s.type) ? rotatorRegistry[s.type].targetType : null;
    if (s.type !== undefined && isRotatorType(s.type)) {
      if (wanted === null && s.target !== undefined) out.push({ at: ['secrets', s.index, 'target'], message: `type ${s.type} has no target; remove \`target\`` });
      else if (wanted !== null && s.target === undefined && !(rotatorRegistry[s.type] as AnyRotatorDefinition).targetOptional) {
        out.push({ at: ['secrets', s.index], message: `type ${s.type} needs \`target\`: the name of a ${wanted} entry under \`targets\`` });
      }
    }
    if (s.target !== undefined) {
      const target = v.targets[s.target];
      if (!target) out.push({ at: ['secrets', s.index, 'target'], message: `unknown target "${s.target}"; define it under \`targets\`` });
      else if (wanted !== null && target.type !== wanted) out.push({ at: ['secrets', s.index, 'target'], message: `target "${s.target}" is a ${target.type} server; type ${s.type} needs a ${wanted} target` });
    }
    return out;
  }),
};

export const afterNamesSecrets: ReferenceRule = {
  name: '`after` names other secrets',
  check: (v) => v.secrets.flatMap((s) => s.after.flatMap((dep, j): RuleProblem[] => {
    if (dep === s.id) return [{ at: ['secrets', s.index, 'after', j], message: 'a secret cannot rotate after itself' }];
    return v.firstIndex.has(dep) ? [] : [{ at: ['secrets', s.index, 'after', j], message: `unknown secret "${dep}" in \`after\`` }];
  })),
};

export const afterHasNoCycle: ReferenceRule = {
  name: '`after` has no cycle',
  check: (v) => {
    const cycle = findCycle(v.secrets.flatMap((s) => (s.id === undefined ? [] : [{ id: s.id, after: s.after }])));
    if (!cycle) return [];
    const first = v.firstIndex.get(cycle[0]!) ?? 0;
    return [{ at: ['secrets', first, 'after'], message: `\`after\` forms a cycle: ${cycle.join(' → ')}` }];
  },
};

export const deliveriesNameTheirSecret: ReferenceRule = {
  name: 'a shared consumer says which secret each delivery is for',
  check: (v) => Object.entries(v.consumers).flatMap(([name, consumer]) => {
    const usedBy = v.secrets.filter((s) => s.consumers.includes(name)).flatMap((s) => (s.id === undefined ? [] : [s.id]));
    return consumer.deliver.flatMap((d, j): RuleProblem[] => {
      if (d.secret !== undefined && !usedBy.includes(d.secret)) {
        return [{ at: ['consumers', name, 'deliver', j, 'secret'], message: `secret "${d.secret}" does not list consumer "${name}"; add it to that secret's \`consumers\` or fix the id` }];
      }
      if (d.secret === undefined && usedBy.length > 1) {
        // Without it every secret of the consumer would be written to the same place.
        return [{ at: ['consumers', name, 'deliver', j], message: `consumer "${name}" is used by ${usedBy.join(', ')}: say which secret this delivery is for with \`secret:\`` }];
      }
      return [];
    });
  }),
};

export const deliveriesGoToTargets: ReferenceRule = {
  name: 'deliveries go into delivery targets that exist',
  check: (v) => Object.entries(v.consumers).flatMap(([name, consumer]) => consumer.deliver.flatMap((d, j): RuleProblem[] => {
    if (d.store === undefined) return [];
    const store = v.stores[d.store];
    if (!store) return [{ at: ['consumers', name, 'deliver', j, 'store'], message: `unknown store "${d.store}"; define it under \`stores\`` }];
    if (isVersionStoreConfig(store)) {
      const also = isDeliveryTargetType(store.type) ? ` (${deliveryTargets[store.type].noun} is a delivery target)` : '';
      return [{ at: ['consumers', name, 'deliver', j, 'store'], message: `deliver into a delivery target (${deliveryTargetTypes.join(', ')})${also}, not ${versionStores[store.type].noun}, which keeps versions` }];
    }
    return [];
  })),
};

export const actionKindsCheckTheirSteps: ReferenceRule = {
  name: 'reload and health steps pass their kind\'s own checks',
  check: (v) => Object.entries(v.consumers).flatMap(([name, consumer]) => [
    ...consumer.reload.flatMap((r, j) => reloadStepProblems(r).map((message) => ({ at: ['consumers', name, 'reload', j], message }))),
    ...consumer.health.flatMap((h, j) => healthStepProblems(h).map((message) => ({ at: ['consumers', name, 'health', j], message }))),
  ]),
};

export const deliveriesFitTheirValue: ConfigRule = {
  name: 'delivery fields and placeholders exist in the value',
  check: (config) => {
    const { errors, warnings } = checkDeliveries(config);
    return [...errors, ...warnings.map((w) => ({ ...w, severity: 'warning' as const }))];
  },
};

export const consumersInOneOrder: ConfigRule = {
  name: 'consumers are listed in one order',
  check: (config, view) => {
    const order = consumerOrder(Object.keys(config.consumers), config.secrets);
    if (order.ok) return [];
    return [{
      at: ['secrets', view.firstIndex.get(order.secrets[0] ?? '') ?? 0, 'consumers'],
      message: `secrets ${order.secrets.join(', ')} list consumers ${order.consumers.join(', ')} in contradicting orders; a consumer shared by several secrets is reloaded once per run, so list them in one order everywhere`,
    }];
  },
};

export const graceShorterThanInterval: ConfigRule = {
  name: 'grace is shorter than interval',
  check: (config, view) => config.secrets.flatMap((s) =>
    s.intervalMs !== undefined && s.graceMs >= s.intervalMs
      ? [{
          at: ['secrets', view.firstIndex.get(s.id) ?? 0, 'grace'], severity: 'warning' as const,
          message: `grace is not shorter than interval for ${s.id}: each rotation would cut the previous grace short`,
        }]
      : []),
};

export const timeoutsCoverOwnWaits: ConfigRule = {
  name: "a step's timeout covers what the rotator itself waits for",
  check: (config, view) => config.secrets.flatMap((s) => {
    if (!s.timeoutsMs || !isRotatorType(s.type)) return [];
    const waits = (rotatorRegistry[s.type] as AnyRotatorDefinition).waits?.(s.spec) ?? {};
    return Object.entries(s.timeoutsMs).flatMap(([step, ms]) => {
      const wait = waits[step as keyof typeof waits];
      return wait !== undefined && ms <= wait
        ? [{
            at: ['secrets', view.firstIndex.get(s.id) ?? 0, 'timeouts', step],
            message: `timeouts.${step} (${formatDuration(ms)}) must be longer than what ${s.id} itself waits in that step (${formatDuration(wait)}: its drain or command timeout), or the step fails before that wait ends`,
          }]
        : [];
    });
  }),
};

export const deliveryKeysFitTheirTarget: ConfigRule = {
  name: 'delivery keys are keys their target can hold',
  check: (config) => Object.entries(config.stores).flatMap(([storeName, store]): RuleProblem[] => {
    if (!isDeliveryTargetConfig(store)) return [];
    const def: { keyProblems?(keys: string[]): { key: string; message: string }[] } = deliveryTargets[store.type];
    if (!def.keyProblems) return [];
    const at = new Map<string, (string | number)[]>();
    for (const [name, consumer] of Object.entries(config.consumers)) {
      consumer.deliver.forEach((d, j) => {
        if (!('template' in d) && d.store === storeName && !at.has(d.key)) at.set(d.key, ['consumers', name, 'deliver', j, 'key']);
      });
    }
    return def.keyProblems([...at.keys()]).map((p) => ({ at: at.get(p.key)!, message: `${p.message} (store "${storeName}")` }));
  }),
};

export const deliveriesMissVersionStores: ConfigRule = {
  name: 'no delivery target is a secret a version store keeps versions in',
  check: (config) => {
    const kept = new Map<string, string>();
    for (const s of config.secrets) {
      const store = config.stores[s.store];
      if (!store || !isVersionStoreConfig(store)) continue;
      const def: { placeOf?(c: unknown, id: string): string } = versionStores[store.type];
      const place = def.placeOf?.(store, s.id);
      if (place !== undefined) kept.set(place, `${s.id}'s versions (store "${s.store}")`);
    }
    return Object.entries(config.stores).flatMap(([name, store]): RuleProblem[] => {
      if (!isDeliveryTargetConfig(store)) return [];
      const def: { placeOf?(c: unknown): string } = deliveryTargets[store.type];
      const whose = kept.get(def.placeOf?.(store) ?? '');
      return whose === undefined ? [] : [{ at: ['stores', name], message: `store "${name}" is where Rotor keeps ${whose}: a delivery would write over them; name another secret` }];
    });
  },
};

export const REFERENCE_RULES: ReferenceRule[] = [
  uniqueSecretIds, secretStoresExist, secretConsumersExist, secretTargetsFit, afterNamesSecrets, afterHasNoCycle,
  deliveriesNameTheirSecret, deliveriesGoToTargets, actionKindsCheckTheirSteps,
];
export const CONFIG_RULES: ConfigRule[] = [deliveriesFitTheirValue, deliveryKeysFitTheirTarget, deliveriesMissVersionStores, consumersInOneOrder, graceShorterThanInterval, timeoutsCoverOwnWaits];

/** Every reference rule over the raw document (run whatever the schema said). */
export function checkReferences(js: unknown): { errors: RuleProblem[]; warnings: RuleProblem[] } {
  return split(REFERENCE_RULES.flatMap((r) => r.check(lenientView(js))));
}

/** Every rule that needs the validated config. */
export function checkConfigRules(config: RotorConfig, js: unknown): { errors: RuleProblem[]; warnings: RuleProblem[] } {
  const view = lenientView(js);
  return split(CONFIG_RULES.flatMap((r) => r.check(config, view)));
}

function split(problems: RuleProblem[]): { errors: RuleProblem[]; warnings: RuleProblem[] } {
  return { errors: problems.filter((p) => p.severity !== 'warning'), warnings: problems.filter((p) => p.severity === 'warning') };
}

function findCycle(secrets: { id: string; after: string[] }[]): string[] | undefined {
  const deps = new Map(secrets.map((s) => [s.id, s.after]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of deps.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}
