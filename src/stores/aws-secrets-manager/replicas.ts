/**
 * Replica regions of a Secrets Manager secret (a disaster-recovery region named in the
 * store's `replicaRegions`). Secrets Manager copies every version and label to its
 * replicas by itself, asynchronously; Rotor adds a configured region a secret does not
 * replicate to yet, and after AWSCURRENT moves reads it back in each replica region, so a
 * DR region that would serve an old value is named rather than found out during a failover.
 *
 * @example
 * const add = missingReplicas(described, ['eu-central-1']);   // regions to ReplicateSecretToRegions
 * const warnings = await checkReplicas({ name, current, regions, described, clientFor });
 */
import { GetSecretValueCommand, type DescribeSecretResponse, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../../aws/secrets-manager.js';
import { describeError } from '../../errors.js';

/** The configured regions the secret does not replicate to (not even as a failed replica). */
export function missingReplicas(described: DescribeSecretResponse, wanted: readonly string[] | undefined): string[] {
  const have = new Set((described.ReplicationStatus ?? []).map((r) => r.Region));
  return (wanted ?? []).filter((region) => !have.has(region));
}

export interface ReplicaCheck {
  /** The primary secret's name; a replica has the same name in its region. */
  name: string;
  /** The primary's AWSCURRENT: its VersionId and value (compared in memory, never reported). */
  current: { versionId: string; value: string | undefined };
  regions: readonly string[];
  /** The primary's description, for the replication status Secrets Manager reports. */
  described: DescribeSecretResponse;
  clientFor: (region: string) => Promise<SecretsManagerClient>;
  /** How long a replica may take to catch up. Replication is asynchronous on AWS, usually well under a second. */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_WAIT_MS = 5_000;

/**
 * One line per replica region that does not serve the primary's AWSCURRENT within the
 * wait: a failed replication (with Secrets Manager's own message), a replica still behind,
 * or one Rotor cannot read. Never throws and never names a value: a lagging DR copy is a
 * warning for the operator, not a reason to take the new value away from production.
 */
export async function checkReplicas(c: ReplicaCheck): Promise<string[]> {
  const status = new Map((c.described.ReplicationStatus ?? []).map((r) => [r.Region, r]));
  const deadline = Date.now() + (c.waitMs ?? DEFAULT_WAIT_MS);
  const sleep = c.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const lines = await Promise.all(c.regions.map(async (region): Promise<string | undefined> => {
    const replicated = status.get(region);
    if (!replicated) return `${c.name} is not replicated to ${region}, named in replicaRegions; the DR region has no copy of it`;
    if (replicated.Status === 'Failed') {
      return `replication of ${c.name} to ${region} failed (${(replicated.StatusMessage ?? 'no reason given').slice(0, 300)}); the DR region does not hold the current value`;
    }
    let last: string;
    for (let delay = 250; ; delay = Math.min(delay * 2, 1_000)) {
      last = await readReplica(c, region);
      if (!last) return undefined;
      if (Date.now() + delay > deadline) break;
      await sleep(delay);
    }
    return `the replica of ${c.name} in ${region} does not serve AWSCURRENT ${c.current.versionId} after ${Math.round((c.waitMs ?? DEFAULT_WAIT_MS) / 1000)}s: ${last}; apps failing over to ${region} would read another value until it catches up`;
  }));
  return lines.filter((l): l is string => l !== undefined);
}

/** '' when the replica serves the primary's AWSCURRENT; otherwise what it serves instead, without values. */
async function readReplica(c: ReplicaCheck, region: string): Promise<string> {
  try {
    const client = await c.clientFor(region);
    const got = await client.send(new GetSecretValueCommand({ SecretId: c.name, VersionStage: 'AWSCURRENT' }));
    if (got.VersionId !== c.current.versionId) return `it serves version ${got.VersionId ?? '(none)'}`;
    if (c.current.value !== undefined && got.SecretString !== c.current.value) return 'it serves another value under the same VersionId';
    return '';
  } catch (err) {
    const name = awsErrorName(err);
    if (name === 'ResourceNotFoundException') return 'the replica does not exist yet';
    if (name === 'AccessDeniedException') return `Rotor may not read it (grant secretsmanager:GetSecretValue on the replica in ${region})`;
    // AWS's own words name resources, never values.
    return `reading it failed: ${describeError(err).slice(0, 300)}`;
  }
}
