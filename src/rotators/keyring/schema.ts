/** rotor.yaml fields of a `keyring` secret, and its value: keys with ids, one of them primary. */
import { z } from 'zod';

const sqlName = z
  .string()
  .min(1)
  .max(127)
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'a column or table name, optionally schema-qualified (public.customers)');

export const keyringSpecSchema = z
  .strictObject({
    data: z
      .strictObject({
        table: sqlName.describe('the table holding ciphertext made with this keyring'),
        idColumn: sqlName.default('id').describe('a unique, ordered key column (the primary key)'),
        column: sqlName.describe('the column holding rk1:<key id>:… ciphertext'),
        batchSize: z.number().int().min(100).max(100_000).default(5000).describe('rows per re-encryption batch'),
      })
      .optional()
      .describe('the PostgreSQL table `rotor reencrypt` moves to the new key (the secret names its database as `target`)'),
  })
  .describe('an encryption keyring: a new primary encrypts, older keys decrypt until re-encryption finishes');

export type KeyringSpec = z.infer<typeof keyringSpecSchema>;

export const keyringValueSchema = z.strictObject({
  primary: z.string().min(1).max(64),
  keys: z
    .array(z.strictObject({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/), key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 256-bit key') }))
    .min(1)
    .max(2),
});

export type KeyringValueOf = z.infer<typeof keyringValueSchema>;
