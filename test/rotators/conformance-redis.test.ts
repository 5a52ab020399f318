/**
 * The rotator conformance suite (conformance.ts) for `redis-acl` dual-password and
 * alternating, against a private Redis. requirepass has its own file and server: every one
 * of its tests rotates `default`, so they take turns, and alone in a file they overlap
 * with the other files' tests.
 */
import { runRotatorConformance } from './conformance.js';
import { redisLine, redisTarget } from './conformance/redis.js';

const redis = redisTarget();

runRotatorConformance(redisLine(redis, 'dual-password'));
runRotatorConformance(redisLine(redis, 'alternating'));
