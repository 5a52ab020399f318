/**
 * What the Secrets Manager version store and delivery target share: the connection fields
 * of their config, one SDK client per connection, and how an AWS error becomes a Rotor
 * error. Credentials come from the SDK's default chain (environment, profile, web identity
 * for EKS service accounts); nothing here reads or holds them. Throttling is retried by the
 * SDK itself (standard retry mode; AWS_MAX_ATTEMPTS raises its attempts).
 *
 * @example
 * const client = await secretsManagerClient({ region: 'eu-west-1' });
 * try { await client.send(cmd); } catch (err) { throw awsError(err, { action: 'PutSecretValue', resource: name }); }
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import { RotorError, TargetUnreachableError } from '../errors.js';

export const regionSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region like eu-west-1')
  .describe('the AWS region of the secrets');

export const endpointSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .optional()
  .describe('another Secrets Manager endpoint (a VPC endpoint, or a local emulator in tests); default: the region\'s');

export const kmsKeyIdSchema = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .describe('the KMS key (id, ARN or alias/…) new secrets are encrypted with; default: the account\'s aws/secretsmanager key');

/** Secrets Manager names: what AWS allows, and a prefix leaves room for the secret id after it. */
export const secretNamePrefixSchema = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9/_+=.@-]*$/, 'letters, digits and / _ + = . @ -')
  .default('')
  .describe('put before each secret id to make its Secrets Manager name: `prod/` stores database/primary as prod/database/primary');

/** One secret's place, for telling a delivery target from a version store's secret: the same region, endpoint and name. */
export function secretsManagerPlace(conn: AwsConnection, name: string): string {
  return `aws-secrets-manager ${conn.region} ${conn.endpoint ?? ''} ${name}`;
}

export interface AwsConnection {
  region: string;
  endpoint?: string | undefined;
}

const clients = new Map<string, Promise<SecretsManagerClient>>();

/**
 * How long one AWS request may take: to connect, and then between bytes of the answer.
 * Without it a stalled endpoint (a hung proxy, a frozen VPC endpoint) holds a step — and a
 * SIGTERM waiting for that step — forever. Each of the SDK's attempts gets it anew.
 * ROTOR_AWS_TIMEOUT (a duration: 30s, 2m) overrides it for slow links.
 */
export function awsHttpOptions(env: NodeJS.ProcessEnv = process.env): { requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true } } {
  const ms = env.ROTOR_AWS_TIMEOUT ? parseDuration(env.ROTOR_AWS_TIMEOUT) : undefined;
  const requestTimeout = ms !== undefined && ms > 0 ? ms : 30_000;
  // throwOnRequestTimeout: without it the handler only logs a warning and waits on.
  return { requestHandler: { connectionTimeout: Math.min(requestTimeout, 10_000), requestTimeout, throwOnRequestTimeout: true } };
}

/** One client per region and endpoint, for the life of the process: it pools its connections. */
export function secretsManagerClient(conn: AwsConnection): Promise<SecretsManagerClient> {
  const key = `${conn.region}\0${conn.endpoint ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    // The SDK warns on every start that its releases after January 2027 need Node 22.
    // Rotor pins its SDK in package-lock.json and decides its Node support itself.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    // Loaded on first use: configs without AWS entries never pay for the SDK.
    client = import('@aws-sdk/client-secrets-manager').then(({ SecretsManagerClient: Client }) => new Client({
      region: conn.region,
      ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
      ...awsHttpOptions(),
    }));
    clients.set(key, client);
  }
  return client;
}

export interface AwsCallContext {
  /** The Secrets Manager API action, as IAM names it without the `secretsmanager:` prefix. */
  action: string;
  /** The secret's name. */
  resource: string;
  kmsKeyId?: string | undefined;
}

/** The name an SDK error carries (`AccessDeniedException`), or undefined for anything else. */
export function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error && typeof err.name === 'string' ? err.name : undefined;
}

const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);
const BAD_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'CredentialsProviderError']);
const KMS_FAILURES = new Set(['EncryptionFailure', 'DecryptionFailure', 'KMSAccessDeniedException', 'KMSDisabledException', 'KMSInvalidStateException', 'KMSNotFoundException']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'TimeoutError', 'RequestTimeout']);

/** What an AWS SDK error means for Rotor, whichever service answered it (Secrets Manager, KMS). */
export interface AwsFailure {
  kind: 'denied' | 'credentials' | 'kms' | 'unreachable' | 'other';
  /** The error's name (`AccessDeniedException`), or `Error`. */
  name: string;
  /** AWS's own words, cut short: they name resources, never values. */
  said: string;
  /** For `unreachable`: the network code or the SDK's timeout name. */
  reason: string;
}

export function awsFailure(err: unknown): AwsFailure {
  const name = awsErrorName(err) ?? 'Error';
  const code = (err as { code?: unknown } | null)?.code;
  const said = err instanceof Error ? err.message.slice(0, 300) : String(err);
  const reason = typeof code === 'string' ? code : name;
  const kind = DENIED.has(name) ? 'denied'
    : BAD_CREDENTIALS.has(name) ? 'credentials'
      : KMS_FAILURES.has(name) ? 'kms'
        : UNREACHABLE.has(name) || UNREACHABLE.has(reason) ? 'unreachable'
          : 'other';
  return { kind, name, said, reason };
}

/** The hint for credentials AWS did not accept, whichever service refused them. */
export const CREDENTIALS_HINT = 'give Rotor AWS credentials through the default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity (EKS service account)';

/**
 * An AWS error as a Rotor error. A denied or unauthenticated call is a setup problem
 * (outcome `usage`, exit 2) whose hint names the IAM action to grant; an unreachable
 * endpoint is transient. The message keeps AWS's own words, which name resources and
 * never carry the secret's value.
 */
export function awsError(err: unknown, ctx: AwsCallContext): Error {
  if (err instanceof RotorError) return err;
  const { kind, name, said, reason } = awsFailure(err);
  const what = `Secrets Manager ${ctx.action} on ${ctx.resource}`;
  switch (kind) {
    case 'denied':
      return new RotorError(`${what} was denied: ${said}`, {
        outcome: 'usage',
        hint: /kms/i.test(said)
          ? `grant kms:GenerateDataKey and kms:Decrypt on ${ctx.kmsKeyId ?? 'the secret\'s KMS key'} to Rotor's role; nothing was changed`
          : `grant secretsmanager:${ctx.action} on ${ctx.resource} to Rotor's role (the README has a least-privilege policy); nothing was changed`,
        cause: err,
      });
    case 'credentials':
      return new RotorError(`${what}: AWS did not accept Rotor's credentials (${name}): ${said}`, { outcome: 'usage', hint: CREDENTIALS_HINT, cause: err });
    case 'kms':
      return new RotorError(`${what}: KMS refused (${name}): ${said}`, {
        outcome: 'usage',
        hint: `check that ${ctx.kmsKeyId ?? 'the secret\'s KMS key'} is enabled and that Rotor's role may use it (kms:GenerateDataKey, kms:Decrypt)`,
        cause: err,
      });
    case 'unreachable':
      return new TargetUnreachableError(`${what}: the endpoint could not be reached (${reason})`, err);
    default:
      return new RotorError(`${what} failed (${name}): ${said}`, { outcome: 'rolled-back', cause: err });
  }
}
