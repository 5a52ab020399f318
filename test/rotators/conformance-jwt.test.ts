/** The rotator conformance suite (conformance.ts) for `jwt-keyset`: its target is the published key set file, checked with jose. */
import { runRotatorConformance } from './conformance.js';
import { jwtLine } from './conformance/jwt-keyset.js';

runRotatorConformance(jwtLine('HS256'));
runRotatorConformance(jwtLine('RS256'));
runRotatorConformance(jwtLine('ES256'));
runRotatorConformance(jwtLine('EdDSA'));
