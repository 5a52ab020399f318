/**
 * `rotor/client`: what an application needs to live through a rotation. Each export is
 * independent (import only what you use; the package is side-effect free).
 *
 *   import { createTokenVerifier, jwksFile } from 'rotor/client';
 *   const verifier = createTokenVerifier({ jwks: jwksFile('/etc/app/jwks.json') });
 *   const { payload } = await verifier.verify(token);
 */
export { createTokenSigner, type JwtKeySet, type SignOptions, type TokenSigner } from './jwt-signer.js';
export { createTokenVerifier, jwksFile, jwksUrl, type JwksSource, type TokenVerifier, type VerifierOptions } from './jwt-verifier.js';
export { createKeyring, keyIdOf, CIPHERTEXT_PREFIX, type Keyring, type KeyringValue } from './keyring.js';
export { watchJsonFile, type Watcher, type WatchOptions } from './watch.js';
