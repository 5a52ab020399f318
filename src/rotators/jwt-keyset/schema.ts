/** rotor.yaml fields of a `jwt-keyset` secret, and the shape of its value (a private key set). */
import { z } from 'zod';

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const jwtSpecSchema = z
  .strictObject({
    algorithm: z.enum(JWT_ALGORITHMS).describe('HS256 (shared secret), RS256, ES256 or EdDSA (Ed25519)'),
    jwksFile: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('where to publish the public JWKS for verifiers (relative to rotor.yaml); not for HS256, which has no public half'),
    keysetFile: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('HS256 only: where to write the verification key set (shared secrets, mode 0600) for services on this host'),
    publish: z
      .boolean()
      .default(false)
      .describe('serve the public keys at `rotor serve`\'s /.well-known/jwks.json: a new key appears there when it is made, before it signs, and leaves at retire'),
    rsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).default(2048).describe('RS256 modulus length'),
  })
  .superRefine((spec, ctx) => {
    if (spec.algorithm === 'HS256' && spec.jwksFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwksFile'], message: 'HS256 keys are shared secrets with no public half: there is nothing to publish; use keysetFile (written 0600) for the services that verify' });
    }
    if (spec.algorithm === 'HS256' && spec.publish) {
      ctx.addIssue({ code: 'custom', path: ['publish'], message: 'HS256 keys are shared secrets with no public half: nothing can be published at /.well-known/jwks.json' });
    }
    if (spec.algorithm !== 'HS256' && spec.keysetFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keysetFile'], message: `${spec.algorithm} verifiers need only the public keys: use jwksFile` });
    }
  })
  .describe('a JWT signing key set; the grace must cover the longest token lifetime');

export type JwtSpec = z.infer<typeof jwtSpecSchema>;

/**
 * A private JWK as jose exports it, with the kid and alg Rotor gives it. Its members are
 * named (RFC 7517/7518), so a delivery `field` like `keys.0.kdi` is refused when the config
 * loads instead of failing a rotation.
 */
const member = z.string().max(8192).optional();
const privateJwkSchema = z.strictObject({
  kty: z.string(), kid: z.string().min(1).max(128), alg: z.string(),
  use: member, key_ops: z.array(z.string().max(32)).max(16).optional(),
  crv: member, x: member, y: member, d: member, n: member, e: member, p: member, q: member, dp: member, dq: member, qi: member, k: member,
});

export const jwtValueSchema = z.strictObject({
  alg: z.enum(JWT_ALGORITHMS),
  /** The key that signs: the newest. */
  kid: z.string().min(1).max(128),
  /** The signing key first, then the key it replaced, which verifiers accept until retire. */
  keys: z.array(privateJwkSchema).min(1).max(2),
});

export type JwtValue = z.infer<typeof jwtValueSchema>;
export type PrivateJwk = z.infer<typeof privateJwkSchema>;
