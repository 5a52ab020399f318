/**
 * The rotator conformance suite (conformance.ts) for `redis-acl`, against a private Redis
 * whose admin is `rotor-admin`, not `default`: Rotor refuses to rotate the password it
 * authenticates with, and requirepass rotates `default`'s.
 */
import { runRotatorConformance } from './conformance.js';
import { redisLine, redisTarget } from './conformance-targets.js';

const redis = redisTarget();

runRotatorConformance(redisLine(redis, 'dual-password'));
runRotatorConformance(redisLine(redis, 'alternating'));
runRotatorConformance(redisLine(redis, 'requirepass'));
