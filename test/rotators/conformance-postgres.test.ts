/** The rotator conformance suite (conformance.ts) for `postgres-password`, against a private PostgreSQL. */
import { runRotatorConformance } from './conformance.js';
import { postgresLine, postgresTarget } from './conformance/postgres.js';

const postgres = postgresTarget();

runRotatorConformance(postgresLine(postgres, 'single'));
runRotatorConformance(postgresLine(postgres, 'alternating'));
runRotatorConformance(postgresLine(postgres, 'new-user'));
