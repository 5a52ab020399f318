/**
 * The PostgreSQL table a keyring protects: how many rows each key still encrypts, and the
 * batched, compare-and-swap re-encryption `rotor reencrypt` runs. Shared by the rotator
 * (retire refuses while rows remain under the old key) and the command.
 */
import pg from 'pg';
import { CIPHERTEXT_PREFIX } from '../../client/keyring.js';
import { ident, literal } from '../shared/pg-sql.js';
import type { KeyringSpec } from './schema.js';

export type DataSpec = NonNullable<KeyringSpec['data']>;

/** `public.customers` → `"public"."customers"`. */
export const qualified = (name: string) => name.split('.').map(ident).join('.');

/** A LIKE pattern (with its ESCAPE clause) for ciphertext made with `keyId`; key ids may hold `_`, a LIKE wildcard. */
export const underKey = (keyId: string) => `${literal(`${CIPHERTEXT_PREFIX}:${keyId.replace(/[!_%]/g, '!$&')}:%`)} ESCAPE '!'`;

export async function rowsUnderKey(client: pg.Pool | pg.Client, data: DataSpec, keyId: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(data.table)} WHERE ${ident(data.column)} LIKE ${underKey(keyId)}`);
  return Number(rows[0]?.n ?? 0);
}

/** Rows under any key but `primary`: what re-encryption still has to do. */
export async function rowsNotUnder(client: pg.Pool | pg.Client, data: DataSpec, primary: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualified(data.table)} WHERE ${ident(data.column)} LIKE ${literal(`${CIPHERTEXT_PREFIX}:%`)} AND ${ident(data.column)} NOT LIKE ${underKey(primary)}`);
  return Number(rows[0]?.n ?? 0);
}

/** The SQL type of the id column, for the typed arrays of a batched update. */
export async function idType(client: pg.Pool | pg.Client, data: DataSpec): Promise<string> {
  const { rows } = await client.query<{ t: string }>(
    'SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = $2 AND NOT a.attisdropped',
    [data.table, data.idColumn]);
  if (!rows[0]) throw new Error(`column ${data.idColumn} not found in ${data.table}`);
  return rows[0].t;
}
