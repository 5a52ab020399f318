/**
 * `stores: { app-db: { type: aws-secrets-manager, name, region, kmsKeyId?, tags? } }`: one
 * Secrets Manager secret as a delivery target, in the shape its app or External Secrets
 * Operator reads — a JSON object whose keys are the deliveries' `key`s (dot paths allowed).
 * Other keys are kept. The secret is created when missing, with its KMS key and tags.
 *
 * The same `type` is also a version store (stores/aws-secrets-manager): an entry with `name`
 * is one secret consumers deliver into, an entry without it (`prefix`) keeps versions.
 *
 * @example
 * stores:
 *   mita-db: { type: aws-secrets-manager, region: eu-west-1, name: mita/prod/database, kmsKeyId: alias/mita }
 * consumers:
 *   api:
 *     deliver:
 *       - { store: mita-db, key: password, field: password }
 *       - { store: mita-db, key: connection_string, format: "postgresql://{{ username }}:{{ password }}@{{ host }}:{{ port }}/{{ database }}" }
 */
import { z } from 'zod';
import { endpointSchema, kmsKeyIdSchema, regionSchema, secretsManagerPlace } from '../../aws/secrets-manager.js';
import type { DeliveryTargetDefinition } from '../types.js';

export const secretsManagerTargetSchema = z
  .strictObject({
    type: z.literal('aws-secrets-manager'),
    name: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'letters, digits and / _ + = . @ -')
      .describe('the Secrets Manager secret consumers read (created when missing); its value is a JSON object'),
    region: regionSchema,
    kmsKeyId: kmsKeyIdSchema,
    endpoint: endpointSchema,
    tags: z
      .record(z.string().min(1).max(128), z.string().max(256))
      .refine((t) => Object.keys(t).length <= 40, 'at most 40 tags')
      .refine((t) => !Object.keys(t).some((k) => k === 'managed-by' || k.toLowerCase().startsWith('aws:')), 'managed-by is Rotor\'s own tag, and aws: tags are reserved by AWS')
      .optional()
      .describe('tags set when Rotor creates the secret (besides managed-by: rotor)'),
  })
  .describe('aws-secrets-manager with `name`: a delivery target, keys of one Secrets Manager secret\'s JSON value');

/** Keys of a JSON object set by dot paths: no empty or prototype-touching segment, and no key inside another's value. */
export function jsonKeyProblems(keys: string[]): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const key of new Set(keys)) {
    const parts = key.split('.');
    if (parts.some((p) => p === '')) out.push({ key, message: `"${key}" has an empty part: write names separated by single dots` });
    else if (parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) out.push({ key, message: `"${key}" names ${parts.find((p) => ['__proto__', 'constructor', 'prototype'].includes(p))}, which JSON readers treat specially` });
    else {
      const inside = keys.find((other) => other !== key && key.startsWith(`${other}.`));
      if (inside !== undefined) out.push({ key, message: `"${key}" is inside "${inside}", which another delivery sets to a text: one of them must go` });
    }
  }
  return out;
}

export type SecretsManagerTargetConfig = z.infer<typeof secretsManagerTargetSchema>;

export const secretsManagerTarget = {
  type: 'aws-secrets-manager',
  summary: 'keys of one Secrets Manager secret\'s JSON value (an entry with `name`), created when missing',
  noun: 'an AWS Secrets Manager secret (an entry with `name`)',
  schema: secretsManagerTargetSchema,
  owns: (entry) => Object.hasOwn(entry, 'name'),
  keyProblems: jsonKeyProblems,
  placeOf: (config) => secretsManagerPlace(config, config.name),
  withPaths: (config) => config,
  async open(config) {
    return (await import('./secret.js')).openSecretsManagerTarget(config);
  },
  async preflight(config) {
    await (await import('./secret.js')).checkSecretsManagerTarget(config);
  },
} satisfies DeliveryTargetDefinition<SecretsManagerTargetConfig>;
