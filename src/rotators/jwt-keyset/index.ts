import type { RotatorDefinition } from '../types.js';
import { jwtSpecSchema, jwtValueSchema, type JwtSpec, type JwtValue } from './schema.js';

export const jwtDefinition = {
  type: 'jwt-keyset',
  summary: 'a JWT signing key set (HS256, RS256, ES256, EdDSA) with a published JWKS',
  schema: jwtSpecSchema,
  valueSchema: jwtValueSchema,
  targetType: null,
  plan: (spec) => ({
    steps: {
      create: `generate a new ${spec.algorithm} key (kid from its RFC 7638 thumbprint); the key set is the new key plus the current one`,
      apply: spec.jwksFile ? `publish the public keys of the new set to ${spec.jwksFile} before anything signs with the new key`
        : spec.keysetFile ? `write the new key set to ${spec.keysetFile} (0600) before anything signs with the new key` : 'nothing to publish (no jwksFile)',
      verify: `sign a probe token with the new key and verify it against ${spec.jwksFile ?? spec.keysetFile ?? 'the key set'}`,
      promote: 'the new key becomes the signing key; the old one only verifies',
      propagate: 'deliver the key set to the consumers of the secret',
      retire: spec.jwksFile ?? spec.keysetFile ? `after grace, publish the set without the old key to ${spec.jwksFile ?? spec.keysetFile}; prove a token signed with it is refused` : 'after grace, drop the old key from the set',
    },
    notes: [
      'grace must cover the longest token lifetime: tokens signed with the old key verify until retire',
      ...(spec.algorithm === 'HS256' ? ['HS256 has no public half: no JWKS is published; the shared keys go only to keysetFile (0600) and the services that verify'] : []),
    ],
  }),
  load: async () => (await import('./rotator.js')).createJwtRotator,
} satisfies RotatorDefinition<'jwt-keyset', JwtSpec, JwtValue>;
