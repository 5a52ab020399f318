/**
 * The rotator conformance suite (conformance.ts) with Secrets Manager (moto) as the version
 * store: a type without a server, a key type and a database login, so the crash matrix,
 * adopt, rollback and leak tests run over the AWS store as they do over the local vault.
 */
import { runRotatorConformance } from './conformance.js';
import { motoForFile } from '../helpers/servers/moto-suite.js';
import { inAwsStore } from './conformance/aws-store.js';
import { jwtLine } from './conformance/jwt-keyset.js';
import { postgresLine, postgresTarget } from './conformance/postgres.js';
import { randomLine } from './conformance/random.js';

const moto = motoForFile();
const postgres = postgresTarget();

runRotatorConformance(inAwsStore(randomLine(), moto));
runRotatorConformance(inAwsStore(jwtLine('HS256'), moto));
runRotatorConformance(inAwsStore(postgresLine(postgres, 'alternating'), moto));
