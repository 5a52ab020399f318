/**
 * The `aws-secrets-manager` version store: every version of a secret is a Secrets Manager
 * version under a KMS key, with staging labels that follow Rotor's stages (store.ts). The
 * SDK loads only when a store of this kind is opened.
 *
 * @example
 * // rotor.yaml
 * // stores: { aws: { type: aws-secrets-manager, region: eu-west-1, prefix: prod/, kmsKeyId: alias/rotor } }
 * const store = await secretsManagerStoreDefinition.open(config.stores.aws, { key });
 */
import { z } from 'zod';
import { endpointSchema, kmsKeyIdSchema, regionSchema, secretNamePrefixSchema, secretsManagerPlace } from '../../aws/secrets-manager.js';
import type { VersionStoreDefinition } from '../types.js';

export const secretsManagerStoreSchema = z
  .strictObject({
    type: z.literal('aws-secrets-manager'),
    region: regionSchema,
    prefix: secretNamePrefixSchema,
    kmsKeyId: kmsKeyIdSchema,
    endpoint: endpointSchema,
    replicaRegions: z
      .array(regionSchema)
      .max(10)
      .refine((r) => new Set(r).size === r.length, 'each region once')
      .optional()
      .describe('disaster-recovery regions every secret is replicated to (added to existing secrets too); Secrets Manager keeps them in step, Rotor reads each back after AWSCURRENT moves'),
  })
  .refine((c) => !c.replicaRegions?.includes(c.region), { message: 'a replica region must differ from `region`, the primary', path: ['replicaRegions'] })
  .describe('aws-secrets-manager: a version store, every version a Secrets Manager version, staged AWSPENDING/AWSCURRENT/AWSPREVIOUS');

export type SecretsManagerStoreConfig = z.infer<typeof secretsManagerStoreSchema>;

export const secretsManagerStoreDefinition = {
  type: 'aws-secrets-manager',
  summary: 'every version a Secrets Manager version under a KMS key, staging labels following Rotor\'s stages',
  noun: 'an AWS Secrets Manager store',
  schema: secretsManagerStoreSchema,
  owns: (entry) => !Object.hasOwn(entry, 'name'),
  placeOf: (config, secretId) => secretsManagerPlace(config, `${config.prefix}${secretId}`),
  withPaths: (config) => config,
  async open(config, opts) {
    const [{ SecretsManagerStore }, { secretsManagerClient }] = await Promise.all([import('./store.js'), import('../../aws/secrets-manager.js')]);
    // Secrets Manager encrypts with KMS itself: the master key is not needed here.
    return new SecretsManagerStore({
      client: await secretsManagerClient(config), prefix: config.prefix, kmsKeyId: config.kmsKeyId, replicaRegions: config.replicaRegions, project: opts.project,
      // Same credentials and endpoint override as the primary: an emulator serves every
      // region at one address. (A VPC endpoint is regional: replica reads through it fail
      // and are reported as warnings.)
      replicaClient: (region) => secretsManagerClient({ region, endpoint: config.endpoint }),
    });
  },
} satisfies VersionStoreDefinition<SecretsManagerStoreConfig>;
