/**
 * The `keyring` line: the target is the keyring consumers are given (delivered.json), and a
 * version works when that keyring decrypts what the version encrypts.
 *
 * @example
 * runRotatorConformance(keyringLine());
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyring } from '../../../src/client/keyring.js';
import type { Json } from '../../../src/rotators/types.js';
import type { ConformanceLine, Ctx, Existing, Probe } from './types.js';

export type Ring = { primary: string; keys: { id: string; key: string }[]; [field: string]: Json };
const DELIVERED = 'delivered.json';

/** A keyring's target is the copy its consumers hold: delivered.json, written by the suite's consumer. */
export function keyringLine(): ConformanceLine<Ring> {
  const file = (ctx: Ctx) => join(ctx.dir, DELIVERED);
  const read = (ctx: Ctx) => (existsSync(file(ctx)) ? (JSON.parse(JSON.parse(readFileSync(file(ctx), 'utf8')).value as string) as Ring) : undefined);
  const probe: Probe<Ring> = {
    async accepts(ctx, v) {
      if (!ctx.delivered) return undefined;
      const held = read(ctx);
      if (!held) return false;
      // Data a service wrote under this version's primary key: can a service given the delivered keyring read it?
      try {
        return createKeyring(held).decryptString(createKeyring(v).encrypt('probe')) === 'probe';
      } catch {
        return false;
      }
    },
    async unexplained(ctx, _login, stored) {
      if (!ctx.delivered) return [];
      const keys = stored.flatMap((v) => v.keys);
      return (read(ctx)?.keys ?? []).filter((d) => !keys.some((k) => k.id === d.id && k.key === d.key)).map((d) => `delivered key ${d.id} is no stored key`);
    },
    snapshot: async (ctx) => (existsSync(file(ctx)) ? readFileSync(file(ctx), 'utf8') : null),
  };
  return {
    name: 'keyring',
    type: 'keyring',
    fields: () => ({}),
    login: (tag) => tag,
    delivers: true,
    clean: async () => {},
    async existing(ctx): Promise<Existing<Ring>> {
      // The keyring services were given before Rotor.
      const value: Ring = { primary: `pre${randomBytes(3).toString('hex')}`, keys: [] };
      value.keys.push({ id: value.primary, key: randomBytes(32).toString('base64') });
      if (ctx.delivered) writeFileSync(file(ctx), `${JSON.stringify({ value: JSON.stringify(value) })}\n`, { mode: 0o600 });
      return { input: JSON.stringify(value), value, refused: JSON.stringify({ primary: value.primary, keys: [] }) };
    },
    probe,
    secretsOf: (v) => v.keys.map((k) => k.key),
  };
}
