/**
 * What a delivery's `field` or a template placeholder names, checked when the config loads
 * (`fieldRefProblem`) and read from a value when it is delivered (`pickField`); both follow
 * the same rules, so what loads is what delivers.
 *
 * A field is a dot path into the value — `password`, `keys.0.kid` — or a *view*: a name a
 * type offers for a part whose path would be obscure or fragile. Views today:
 * - jwt-keyset `secret`: the signing key's shared secret (HS256 only), base64url as in its
 *   JWK `k` — the HMAC key is those bytes decoded. What an HS256 app keeps as JWT_SECRET.
 *
 * Views know one rotator's value; they belong on its definition in rotators/, and live here
 * until that interface grows a place for them.
 *
 * @example
 * pickField('postgres-password', value, 'password')  // 's3cr…'
 * pickField('jwt-keyset', value, 'keys.0.kid')       // 'kid of the signing key'
 * pickField('jwt-keyset', value, 'secret')           // the signing key's `k`
 */
import { definitionOf, isRotatorType } from '../rotators/registry.js';
import { jwtValueSchema, type JwtSpec } from '../rotators/jwt-keyset/schema.js';
import type { Json, SecretValue } from '../rotators/types.js';
import { closest, fieldProblem } from './field-problem.js';

export { FIELD_PATH } from './field-problem.js';

interface FieldView {
  /** One line for messages and docs. */
  describe: string;
  /** Why the view does not apply to a secret with this spec; undefined when it does. */
  unavailable(spec: unknown): string | undefined;
  /** The part of `value` it names; undefined when the value has none. */
  pick(value: SecretValue): Json | undefined;
}

const VIEWS: Record<string, Record<string, FieldView>> = {
  'jwt-keyset': {
    secret: {
      describe: "the signing key's shared secret of an HS256 set, base64url as in its JWK `k`",
      unavailable: (spec) => {
        const alg = (spec as Partial<JwtSpec> | undefined)?.algorithm;
        return alg === undefined || alg === 'HS256' ? undefined : `"secret" is the shared secret of an HS256 key set; this one is ${alg}, whose verifiers need only its public keys (jwksFile)`;
      },
      pick: (value) => {
        const set = jwtValueSchema.safeParse(value);
        return set.success ? set.data.keys.find((k) => k.kid === set.data.kid)?.k : undefined;
      },
    },
  },
};

const viewOf = (type: string | undefined, field: string): FieldView | undefined =>
  type !== undefined && Object.hasOwn(VIEWS, type) && Object.hasOwn(VIEWS[type]!, field) ? VIEWS[type]![field] : undefined;

/**
 * Load time: why `field` names nothing in a value of the secret's type (and spec), or
 * undefined when it is fine. The message says what the value has instead.
 */
export function fieldRefProblem(secret: { type: string; spec: unknown }, field: string): string | undefined {
  const [first, ...rest] = field.split('.');
  const view = viewOf(secret.type, first!);
  if (view) return view.unavailable(secret.spec) ?? (rest.length ? `the view "${first}" is a whole part: it has no fields` : undefined);
  if (!isRotatorType(secret.type)) return undefined; // an unknown type is reported on its own
  const problem = fieldProblem(definitionOf(secret.type).valueSchema, field);
  if (problem === undefined) return undefined;
  const views = Object.entries(VIEWS[secret.type] ?? {}).filter(([, v]) => v.unavailable(secret.spec) === undefined);
  const near = rest.length ? undefined : closest(field, views.map(([name]) => name));
  if (near) return `no field "${field}" (did you mean the view "${near}": ${VIEWS[secret.type]![near]!.describe}?)`;
  return `${problem}${views.length ? `; or the view ${views.map(([name, v]) => `${name}: ${v.describe}`).join('; ')}` : ''}`;
}

/** Delivery time: the part of `value` that `field` names, or undefined when this value has none. */
export function pickField(type: string | undefined, value: SecretValue, field: string): Json | undefined {
  const view = viewOf(type, field);
  if (view) return view.pick(value);
  let part: Json | undefined = value;
  for (const segment of field.split('.')) {
    if (Array.isArray(part)) part = /^\d+$/.test(segment) ? part[Number(segment)] : undefined;
    else if (typeof part === 'object' && part !== null && Object.hasOwn(part, segment)) part = part[segment];
    else return undefined;
  }
  return part;
}

/** The text a part is delivered as: a string as it is, anything else as JSON. */
export const textOf = (part: Json): string => (typeof part === 'string' ? part : JSON.stringify(part));
