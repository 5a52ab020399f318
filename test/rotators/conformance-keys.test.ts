/**
 * The rotator conformance suite (conformance.ts) for the types without a server: `random`
 * (no target) and `keyring` (its target is the keyring its consumers are given).
 */
import { runRotatorConformance } from './conformance.js';
import { keyringLine } from './conformance/keyring.js';
import { randomLine } from './conformance/random.js';

runRotatorConformance(randomLine());
runRotatorConformance(keyringLine());
