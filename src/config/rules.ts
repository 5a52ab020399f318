/**
 * Cross-references and constraints that a schema cannot express. Returns errors and
 * warnings together so a user fixes everything in one pass.
 */
import { consumerOrder } from '../consumers/order.js';
import { rotatorRegistry, isRotatorType } from '../rotators/registry.js';
import type { AnyRotatorDefinition } from '../rotators/types.js';
import { checkDeliveries } from './delivery-rules.js';
import type { RawConfig, RotorConfig } from './schema.js';

export interface RuleProblem {
  at: (string | number)[];
  message: string;
}

export function checkRules(config: RotorConfig, raw: RawConfig): { errors: RuleProblem[]; warnings: RuleProblem[] } {
  const errors: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  const firstIndex = new Map<string, number>();

  raw.secrets.forEach((s, i) => {
    const seen = firstIndex.get(s.id);
    if (seen !== undefined) errors.push({ at: ['secrets', i, 'id'], message: `duplicate id "${s.id}" (first defined as secrets[${seen}])` });
    else firstIndex.set(s.id, i);
  });

  raw.secrets.forEach((s, i) => {
    if (!Object.hasOwn(config.stores, s.store)) {
      errors.push({ at: ['secrets', i, 'store'], message: `unknown store "${s.store}"; define it under \`stores\`` });
    } else if (config.stores[s.store]!.type !== 'local') {
      errors.push({ at: ['secrets', i, 'store'], message: `store "${s.store}" is a ${config.stores[s.store]!.type} file that consumers deliver into; versions live in a local store` });
    }
    s.consumers.forEach((c, j) => {
      if (!Object.hasOwn(config.consumers, c)) errors.push({ at: ['secrets', i, 'consumers', j], message: `unknown consumer "${c}"; define it under \`consumers\`` });
    });
    if (isRotatorType(s.type)) {
      const wanted = rotatorRegistry[s.type].targetType;
      if (wanted === null && s.target !== undefined) {
        errors.push({ at: ['secrets', i, 'target'], message: `type ${s.type} has no target; remove \`target\`` });
      } else if (wanted !== null && s.target === undefined && !(rotatorRegistry[s.type] as AnyRotatorDefinition).targetOptional) {
        errors.push({ at: ['secrets', i], message: `type ${s.type} needs \`target\`: the name of a ${wanted} entry under \`targets\`` });
      }
    }
    if (s.target !== undefined) {
      const target = config.targets[s.target];
      if (!target) errors.push({ at: ['secrets', i, 'target'], message: `unknown target "${s.target}"; define it under \`targets\`` });
      const wanted = isRotatorType(s.type) ? rotatorRegistry[s.type].targetType : null;
      if (target && wanted !== null && target.type !== wanted) {
        errors.push({ at: ['secrets', i, 'target'], message: `target "${s.target}" is a ${target.type} server; type ${s.type} needs a ${wanted} target` });
      }
    }
    s.after.forEach((dep, j) => {
      if (!firstIndex.has(dep)) errors.push({ at: ['secrets', i, 'after', j], message: `unknown secret "${dep}" in \`after\`` });
      if (dep === s.id) errors.push({ at: ['secrets', i, 'after', j], message: 'a secret cannot rotate after itself' });
    });
  });

  const users = new Map<string, string[]>();
  for (const s of config.secrets) for (const c of new Set(s.consumers)) users.set(c, [...(users.get(c) ?? []), s.id]);
  for (const [name, consumer] of Object.entries(config.consumers)) {
    const usedBy = users.get(name) ?? [];
    consumer.deliver.forEach((d, j) => {
      if (d.secret !== undefined && !usedBy.includes(d.secret)) {
        errors.push({ at: ['consumers', name, 'deliver', j, 'secret'], message: `secret "${d.secret}" does not list consumer "${name}"; add it to that secret's \`consumers\` or fix the id` });
      } else if (d.secret === undefined && usedBy.length > 1) {
        // Without it every secret of the consumer would be written to the same place.
        errors.push({
          at: ['consumers', name, 'deliver', j],
          message: `consumer "${name}" is used by ${usedBy.join(', ')}: say which secret this delivery is for with \`secret:\``,
        });
      }
      if (!('store' in d)) return;
      const store = config.stores[d.store];
      if (!store) errors.push({ at: ['consumers', name, 'deliver', j, 'store'], message: `unknown store "${d.store}"; define it under \`stores\`` });
      else if (store.type === 'local') errors.push({ at: ['consumers', name, 'deliver', j, 'store'], message: `deliver into a file store (env-file, json, yaml), not the local vault` });
    });
    consumer.reload.forEach((r, j) => {
      if ('signal' in r && (r.pid === undefined) === (r.pidfile === undefined)) errors.push({ at: ['consumers', name, 'reload', j], message: 'a signal reload needs exactly one of `pid` or `pidfile`' });
    });
  }

  const deliveries = checkDeliveries(config);
  errors.push(...deliveries.errors);
  warnings.push(...deliveries.warnings);

  const order = consumerOrder(Object.keys(config.consumers), config.secrets);
  if (!order.ok) {
    errors.push({
      at: ['secrets', firstIndex.get(order.secrets[0] ?? '') ?? 0, 'consumers'],
      message: `secrets ${order.secrets.join(', ')} list consumers ${order.consumers.join(', ')} in contradicting orders; a consumer shared by several secrets is reloaded once per run, so list them in one order everywhere`,
    });
  }

  const cycle = findCycle(raw.secrets);
  if (cycle) errors.push({ at: ['secrets', firstIndex.get(cycle[0]!) ?? 0, 'after'], message: `\`after\` forms a cycle: ${cycle.join(' → ')}` });

  for (const s of config.secrets) {
    if (s.intervalMs !== undefined && s.graceMs >= s.intervalMs) {
      warnings.push({
        at: ['secrets', firstIndex.get(s.id) ?? 0, 'grace'],
        message: `grace is not shorter than interval for ${s.id}: each rotation would cut the previous grace short`,
      });
    }
  }
  return { errors, warnings };
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
