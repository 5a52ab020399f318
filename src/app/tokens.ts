/**
 * API tokens of `rotor serve`: made, listed and revoked by `rotor token`, checked by the
 * daemon on every request. A token is `rotor_<id>_<secret>`: the id finds its row, and only
 * a SHA-256 of the secret is stored, so the state never holds a usable token. It is shown
 * once, when it is made.
 *
 * @example
 * const { token } = await createToken(config, { role: 'viewer', name: 'grafana' });
 * const row = await authenticate(state, header.slice('Bearer '.length)); // undefined: refuse
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RotorConfig } from '../config/schema.js';
import { NotFoundError, UsageError } from '../errors.js';
import { ROLES, type Role, type StateStore, type TokenRow } from '../state/types.js';
import { openState, withEngine } from './engine.js';

const TOKEN = /^rotor_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const ID = /^[0-9a-f]{16}$/;

/** Each role may do what the ones before it may. */
export const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function parseRole(text: string): Role {
  if (!(ROLES as readonly string[]).includes(text)) throw new UsageError(`unknown role "${text}"`, `use one of ${ROLES.join(', ')}`);
  return text as Role;
}

export async function createToken(config: RotorConfig, req: { role: Role; name: string }): Promise<{ token: string; row: TokenRow }> {
  if (!NAME.test(req.name)) throw new UsageError(`bad token name "${req.name}"`, 'use letters, digits, _ . @ and -, up to 64, starting with a letter or digit');
  // `token revoke` takes a name or an id: a name shaped like an id could revoke another token.
  if (ID.test(req.name)) throw new UsageError(`bad token name "${req.name}": it looks like a token id`, 'choose a name that is not 16 hexadecimal digits');
  return withEngine(config, async (engine) => {
    const live = (await engine.state.tokens()).filter((t) => t.revokedAt === null);
    if (live.some((t) => t.name === req.name)) {
      throw new UsageError(`a token named "${req.name}" exists`, `revoke it first (\`rotor token revoke ${req.name}\`) or choose another name`);
    }
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row: TokenRow = { id, name: req.name, role: req.role, hash: hashOf(secret), createdAt: Date.now(), createdBy: engine.deps.actor, revokedAt: null };
    await engine.state.commit([
      { kind: 'token.insert', row },
      { kind: 'audit', event: tokenAudit(engine.deps.actor, 'token.created', `${row.name} (${row.role}, id ${row.id})`) },
    ]);
    return { token: `rotor_${id}_${secret}`, row };
  });
}

/** Every token (hashes left out: nobody needs them). */
export async function listTokens(config: RotorConfig): Promise<Omit<TokenRow, 'hash'>[]> {
  const state = await openState(config);
  try {
    return (await state.tokens()).map(({ hash: _hash, ...rest }) => rest);
  } finally {
    await state.close();
  }
}

/** Revokes the live token named `name` (or with that id); takes effect on the daemon's next request. */
export async function revokeToken(config: RotorConfig, nameOrId: string): Promise<TokenRow> {
  return withEngine(config, async (engine) => {
    const row = (await engine.state.tokens()).find((t) => t.revokedAt === null && (t.name === nameOrId || t.id === nameOrId));
    if (!row) throw new NotFoundError(`no live token named "${nameOrId}"`, 'see `rotor token list`');
    await engine.state.commit([
      { kind: 'token.revoke', id: row.id, at: Date.now() },
      { kind: 'audit', event: tokenAudit(engine.deps.actor, 'token.revoked', `${row.name} (${row.role}, id ${row.id})`) },
    ]);
    return { ...row, revokedAt: Date.now() };
  });
}

/** The live token `presented` is, or undefined. The hash is compared in constant time. */
export async function authenticate(state: StateStore, presented: string): Promise<TokenRow | undefined> {
  const m = TOKEN.exec(presented);
  if (!m) return undefined;
  const row = await state.token(m[1]!);
  if (!row || row.revokedAt !== null) return undefined;
  const given = Buffer.from(hashOf(m[2]!), 'hex');
  const stored = Buffer.from(row.hash, 'hex');
  return stored.length === given.length && timingSafeEqual(stored, given) ? row : undefined;
}

function tokenAudit(actor: string, action: string, detail: string) {
  return { at: Date.now(), actor, action, secretId: null, version: null, rotationId: null, outcome: 'ok' as const, reason: null, incident: null, detail };
}
