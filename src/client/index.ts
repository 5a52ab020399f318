/**
 * `rotor/client`: what an application needs to live through a rotation. Each export is
 * independent (import only what you use; the package is side-effect free).
 *
 *   import { createTokenVerifier, jwksFile } from 'rotor/client';
 *   const verifier = createTokenVerifier({ jwks: jwksFile('/etc/app/jwks.json') });
 *   const { payload } = await verifier.verify(token);
 */
export { createTokenSigner, type JwtKeySet, type SignOptions, type TokenSigner } from './jwt-signer.js';
export { createTokenVerifier, type TokenVerifier, type VerifierOptions } from './jwt-verifier.js';
export { jwksFile, jwksUrl, type BuiltInJwksSource, type JwksDocument, type JwksFetchContext, type JwksSource } from './jwks-source.js';
export { KeySetUnavailableError, type KeySetStats } from './key-set-cache.js';
export type { SkippedKey } from './jwks-import.js';
export { createKeyring, keyIdOf, CIPHERTEXT_PREFIX, type Keyring, type KeyringValue } from './keyring.js';
export { watchJsonFile, type Watcher, type WatchOptions } from './watch.js';
