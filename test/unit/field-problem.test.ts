/**
 * fieldProblem: a delivery's field path checked against a value schema alone — the real
 * value schemas of the rotators, and the zod wrappers a future one may use.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldProblem } from '../../src/consumers/field-problem.js';
import { jwtValueSchema } from '../../src/rotators/jwt-keyset/schema.js';
import { keyringValueSchema } from '../../src/rotators/keyring/schema.js';
import { postgresValueSchema } from '../../src/rotators/postgres-password/schema.js';
import { randomValueSchema } from '../../src/rotators/random/schema.js';
import { redisValueSchema } from '../../src/rotators/redis-acl/schema.js';

describe('fieldProblem on the rotators\' value schemas', () => {
  it.each([
    [postgresValueSchema, 'password'],
    [postgresValueSchema, 'port'],
    [redisValueSchema, 'username'],
    [jwtValueSchema, 'kid'],
    [jwtValueSchema, 'keys'],
    [jwtValueSchema, 'keys.0'],
    [jwtValueSchema, 'keys.0.k'], // JWK members are open (a catchall): k, d, n, x …
    [jwtValueSchema, 'keys.1.kid'],
    [keyringValueSchema, 'keys.0.key'],
    [keyringValueSchema, 'primary'],
  ])('accepts %#: %s', (schema, path) => {
    expect(fieldProblem(schema, path)).toBeUndefined();
  });

  it.each([
    [postgresValueSchema, 'pasword', /^no field "pasword" \(did you mean "password"\?\); the fields: username, password, host, port, database$/],
    [postgresValueSchema, 'password.x', /^"password" is a string: it has no fields$/],
    [postgresValueSchema, 'port.0', /^"port" is a number: it has no fields$/],
    [randomValueSchema, 'value', /^the value is a string: it has no fields$/],
    [jwtValueSchema, 'keys.k', /^"keys" is a list: name an element by its index, like keys\.0$/],
    [jwtValueSchema, 'keys.2.k', /^"keys" has at most 2 elements: indexes 0 to 1$/],
    [jwtValueSchema, 'alg.x', /^"alg" is a string: it has no fields$/],
    [jwtValueSchema, 'secret', /^no field "secret"; the fields: alg, kid, keys$/],
    [keyringValueSchema, 'keys.0.kye', /^"keys\.0" has no field "kye" \(did you mean "key"\?\); its fields: id, key$/],
    [postgresValueSchema, 'keys..0', /is not a field path/],
    [postgresValueSchema, 'a b', /is not a field path/],
  ])('refuses %#: %s', (schema, path, message) => {
    expect(fieldProblem(schema, path)).toMatch(message);
  });
});

describe('fieldProblem through zod wrappers', () => {
  const inner = z.object({ token: z.string() });
  it('looks through optional, nullable, default, readonly, lazy and pipes', () => {
    const schema = z.object({
      a: inner.optional(),
      b: inner.nullable().default(null),
      c: inner.readonly(),
      d: z.lazy(() => inner),
      e: z.string().transform((s) => ({ token: s })).pipe(inner),
    });
    for (const f of ['a', 'b', 'c', 'd', 'e']) {
      expect(fieldProblem(schema, `${f}.token`), f).toBeUndefined();
      expect(fieldProblem(schema, `${f}.tokn`), f).toMatch(/has no field "tokn" \(did you mean "token"\?\)/);
    }
  });

  it('accepts a path that any branch of a union or intersection has', () => {
    const u = z.union([z.object({ a: z.string() }), z.object({ b: z.object({ c: z.string() }) })]);
    expect(fieldProblem(u, 'a')).toBeUndefined();
    expect(fieldProblem(u, 'b.c')).toBeUndefined();
    expect(fieldProblem(u, 'z')).toMatch(/no field "z"/);
    expect(fieldProblem(z.intersection(z.object({ a: z.string() }), z.object({ b: z.string() })), 'b')).toBeUndefined();
  });

  it('records, tuples, open objects and unknown parts take any name below them', () => {
    expect(fieldProblem(z.record(z.string(), z.object({ x: z.string() })), 'anything.x')).toBeUndefined();
    expect(fieldProblem(z.record(z.string(), z.object({ x: z.string() })), 'anything.y')).toMatch(/"anything" has no field "y"/);
    expect(fieldProblem(z.tuple([z.string(), z.object({ x: z.string() })]), '1.x')).toBeUndefined();
    expect(fieldProblem(z.tuple([z.string()]), '1')).toMatch(/at most 1 element: index 0/);
    expect(fieldProblem(z.looseObject({ a: z.string() }), 'b.c.d')).toBeUndefined();
    expect(fieldProblem(z.strictObject({ a: z.string() }), 'b')).toMatch(/no field "b"/);
    expect(fieldProblem(z.object({ a: z.unknown() }), 'a.b.0')).toBeUndefined();
    expect(fieldProblem(z.array(z.string()).length(3), '3')).toMatch(/at most 3 elements/);
    expect(fieldProblem(z.array(z.string()), '99')).toBeUndefined();
  });
});
