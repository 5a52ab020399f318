/**
 * `rotor token create --role viewer|operator|admin --name N` / `list` / `revoke <name>`:
 * API tokens for `rotor serve` (app/tokens.ts). A new token is printed once, on stdout alone,
 * so `rotor token create … > file` captures exactly it.
 */
import { createToken, listTokens, parseRole, revokeToken } from '../../app/tokens.js';
import { UsageError } from '../../errors.js';
import { parse } from '../args.js';
import { openConfig } from '../open.js';
import { table } from '../output.js';

const USAGE = 'rotor token create --role viewer|operator|admin --name NAME [--json] | rotor token list [--json] | rotor token revoke <name>';

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { role: { type: 'string' }, name: { type: 'string' } }, USAGE);
  if (!parsed) return 0;
  const [sub, ...rest] = parsed.positionals;
  const { role, name, json } = parsed.values;
  if (sub !== 'create' && (role !== undefined || name !== undefined)) throw new UsageError('--role and --name go with `token create`', `usage: ${USAGE}`);

  if (sub === 'create') {
    if (rest.length) throw new UsageError('token create takes no arguments: give the name with --name', `usage: ${USAGE}`);
    if (role === undefined || name === undefined) throw new UsageError('token create needs --role and --name', `usage: ${USAGE}`);
    const config = openConfig(parsed.values.config, { readOnly: true });
    const { token, row } = await createToken(config, { role: parseRole(role), name });
    if (json) process.stdout.write(`${JSON.stringify({ token, id: row.id, name: row.name, role: row.role })}\n`);
    else {
      process.stdout.write(`${token}\n`);
      if (process.stderr.isTTY) process.stderr.write(`token "${row.name}" (${row.role}) made: this is the only time it is shown\n`);
    }
    return 0;
  }

  if (sub === 'list') {
    if (rest.length) throw new UsageError('token list takes no arguments', `usage: ${USAGE}`);
    const config = openConfig(parsed.values.config, { readOnly: true });
    const tokens = await listTokens(config);
    if (json) {
      process.stdout.write(`${JSON.stringify({ tokens })}\n`);
      return 0;
    }
    const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    process.stdout.write(table(['NAME', 'ROLE', 'ID', 'CREATED', 'BY', 'REVOKED'], tokens.map((t) => [t.name, t.role, t.id, iso(t.createdAt), t.createdBy, iso(t.revokedAt)])));
    return 0;
  }

  if (sub === 'revoke') {
    if (rest.length !== 1) throw new UsageError('name one token to revoke', `usage: ${USAGE}`);
    const config = openConfig(parsed.values.config, { readOnly: true });
    const row = await revokeToken(config, rest[0]!);
    if (json) process.stdout.write(`${JSON.stringify({ revoked: row.name, id: row.id })}\n`);
    else process.stdout.write(`token "${row.name}" (${row.role}) revoked\n`);
    return 0;
  }
  throw new UsageError('token takes create, list or revoke', `usage: ${USAGE}`);
}
