/**
 * The rotator conformance suite (conformance.ts) for `redis-acl` requirepass, against a
 * private Redis whose admin is `rotor-admin`, not `default`: Rotor refuses to rotate the
 * password it authenticates with. Every test rotates `default`, so they take turns.
 */
import { runRotatorConformance } from './conformance.js';
import { redisLine, redisTarget } from './conformance/redis.js';

runRotatorConformance(redisLine(redisTarget(), 'requirepass'));
