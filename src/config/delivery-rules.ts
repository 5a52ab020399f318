/**
 * What each delivery takes must exist in the value it is given: a `field` and every
 * template placeholder is checked against the value shape of the secret's type
 * (consumers/fields.ts), and templates are read here, so a typo or a missing template is a
 * config error with its line — not a failed delivery that rolls a rotation back.
 *
 * A delivery is checked against the secret it names with `secret:`, or, without it, the one
 * secret that uses its consumer; rules.ts reports the other cases.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fieldRefProblem } from '../consumers/fields.js';
import { placeholdersIn } from '../consumers/template.js';
import type { RuleProblem } from './rules.js';
import type { RotorConfig, SecretConfig } from './schema.js';

export function checkDeliveries(config: RotorConfig): { errors: RuleProblem[]; warnings: RuleProblem[] } {
  const errors: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  const users = new Map<string, SecretConfig[]>();
  for (const s of config.secrets) for (const c of new Set(s.consumers)) users.set(c, [...(users.get(c) ?? []), s]);

  for (const [name, consumer] of Object.entries(config.consumers)) {
    const usedBy = users.get(name) ?? [];
    consumer.deliver.forEach((d, j) => {
      const at = ['consumers', name, 'deliver', j];
      const secret = d.secret === undefined ? (usedBy.length === 1 ? usedBy[0] : undefined) : usedBy.find((s) => s.id === d.secret);
      const about = secret ? `${secret.id} is a ${secret.type}` : '';

      if (!('template' in d)) {
        if (!secret) return;
        const problem = d.field === undefined ? undefined : fieldRefProblem(secret, d.field);
        if (problem) errors.push({ at: [...at, 'field'], message: `${about}: ${problem}` });
        for (const p of d.format === undefined ? [] : placeholdersIn(d.format)) {
          const bad = p.field === undefined ? undefined : fieldRefProblem(secret, p.field);
          if (bad) errors.push({ at: [...at, 'format'], message: `{{ ${p.text} }}: ${about}: ${bad}` });
        }
        if (d.stage === 'previous' && secret.graceMs === 0) {
          warnings.push({ at: [...at, 'stage'], message: `${secret.id} has no grace period: its previous value is retired at once, so this delivery is always empty` });
        }
        return;
      }

      let text: string;
      try {
        text = readFileSync(resolve(config.dir, d.template), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        errors.push({ at: [...at, 'template'], message: `cannot read template ${d.template}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}` });
        return;
      }
      if (!secret) return;
      for (const p of placeholdersIn(text)) {
        const problem = p.field === undefined ? undefined : fieldRefProblem(secret, p.field);
        const hint = p.text === 'previous' ? ' (the whole previous value is {{ previous.value }})' : '';
        if (problem) errors.push({ at: [...at, 'template'], message: `${d.template}:${p.line}: {{ ${p.text} }}: ${about}: ${problem}${hint}` });
      }
    });
  }
  return { errors, warnings };
}
