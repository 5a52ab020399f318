/**
 * The rotator conformance suite (conformance.ts) for the types without a server: `random`,
 * `jwt-keyset` (its target is the published key set file) and `keyring` (its target is
 * the keyring its consumers are given).
 */
import { runRotatorConformance } from './conformance.js';
import { jwtLine, keyringLine, randomLine } from './conformance-targets.js';

runRotatorConformance(randomLine());
runRotatorConformance(jwtLine('HS256'));
runRotatorConformance(jwtLine('RS256'));
runRotatorConformance(jwtLine('ES256'));
runRotatorConformance(jwtLine('EdDSA'));
runRotatorConformance(keyringLine());
