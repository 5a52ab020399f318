/**
 * The AWS Secrets Manager version store. Each Rotor secret is one Secrets Manager secret
 * (`prefix` + id); each Rotor version one of its versions, whose VersionId is a
 * ClientRequestToken derived from the secret, the rotation and the version number — so a
 * retried write is the same write, and a read needs no listing. Staging labels mirror
 * Rotor's stages (AWSPENDING, AWSCURRENT, AWSPREVIOUS; retired and failed versions hold
 * none), so apps and External Secrets that read AWSCURRENT get the value Rotor made current.
 * Rotor's journal stays in its state store: a label is a view of a stage, not its record.
 * Configured replica regions are added to secrets that lack them and read back after
 * AWSCURRENT moves (replicas.ts).
 */
import { createHash } from 'node:crypto';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ReplicateSecretToRegionsCommand, UpdateSecretVersionStageCommand,
  type DescribeSecretResponse, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { IntegrityError, RotorError } from '../../errors.js';
import { awsError, awsErrorName } from '../../aws/secrets-manager.js';
import type { Stage } from '../../state/types.js';
import type { CurrentValue, GetVersionRequest, PutVersionRequest, StagedVersionStore, SyncStagesRequest, SyncStagesResponse } from '../types.js';
import { checkReplicas, missingReplicas } from './replicas.js';

export interface SecretsManagerStoreOptions {
  client: SecretsManagerClient;
  prefix: string;
  kmsKeyId?: string | undefined;
  replicaRegions?: readonly string[] | undefined;
  /** The project's public id, tagged on the secrets it makes (`rotor:project`); another project's are refused. */
  project?: string | undefined;
  /** A client for a replica region (same credentials and endpoint override), to read replicas back. */
  replicaClient?: ((region: string) => Promise<SecretsManagerClient>) | undefined;
  /** How long a replica may take to serve a new AWSCURRENT before it is reported (default 5 s). */
  replicaWaitMs?: number | undefined;
}

/** The tag naming the Rotor project (its master key's public id) a secret belongs to. */
const PROJECT_TAG = 'rotor:project';

/** Rotor's stages as Secrets Manager labels; retired and failed versions carry none. */
const LABEL_OF: Partial<Record<Stage, string>> = { pending: 'AWSPENDING', current: 'AWSCURRENT', previous: 'AWSPREVIOUS' };
/** AWSCURRENT first: moving it drags AWSPREVIOUS along, which the later labels then correct. */
const LABELS = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const;

/**
 * The VersionId (ClientRequestToken) of a Rotor version: 32–64 characters as AWS asks,
 * the same on every retry, different for another rotation with the same version number.
 */
export function versionToken(r: { secretId: string; version: number; rotationId: string }): string {
  return `rotor-${createHash('sha256').update(`${r.secretId}\0${r.version}\0${r.rotationId}`).digest('hex').slice(0, 40)}`;
}

export class SecretsManagerStore implements StagedVersionStore {
  readonly kind = 'aws-secrets-manager';
  /** Secrets known to exist, so each version does not ask again. */
  private readonly known = new Set<string>();
  /** Per secret, the AWSCURRENT VersionId whose replicas this process has checked: each is read back once. */
  private readonly replicasChecked = new Map<string, string>();
  /**
   * By secret name: its versions' labels as this process last saw or made them (the
   * description, then each label move and write applied here), so a sync asks Secrets
   * Manager only the first time. Each rotation's preflight looks afresh (a Lambda rotation
   * that died since leaves an AWSPENDING); during the rotation Rotor holds the secret's lock
   * and refuses a secret Secrets Manager rotates itself, so nobody else moves these labels.
   * Any failed call drops the entry.
   */
  private readonly labels = new Map<string, Record<string, string[]>>();
  /** Version tokens this process found unwritten: putVersion need not ask again before writing one. */
  private readonly absent = new Set<string>();

  constructor(private readonly opts: SecretsManagerStoreOptions) {}

  nameOf(secretId: string): string {
    return `${this.opts.prefix}${secretId}`;
  }

  private async describe(name: string): Promise<DescribeSecretResponse | undefined> {
    try {
      const d = await this.opts.client.send(new DescribeSecretCommand({ SecretId: name }));
      this.labels.set(name, structuredClone(d.VersionIdsToStages ?? {}));
      return d;
    } catch (err) {
      this.labels.delete(name);
      if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
      throw awsError(err, { action: 'DescribeSecret', resource: name });
    }
  }

  async preflight({ secretId }: { secretId: string }): Promise<void> {
    const name = this.nameOf(secretId);
    const found = await this.describe(name);
    if (found?.DeletedDate) {
      throw new RotorError(`Secrets Manager secret ${name} is scheduled for deletion`, {
        outcome: 'usage', hint: `restore it (aws secretsmanager restore-secret --secret-id ${name}) or delete it for good; nothing was changed`,
      });
    }
    if (found?.RotationEnabled) {
      // Two rotators of one secret move each other's labels: the one AWSCURRENT ends on is luck.
      throw new RotorError(`Secrets Manager rotates ${name} itself (a rotation Lambda is enabled)`, {
        outcome: 'usage', hint: `turn it off (aws secretsmanager cancel-rotate-secret --secret-id ${name}) so that Rotor alone rotates it; nothing was changed`,
      });
    }
    const owner = found?.Tags?.find((t) => t.Key === PROJECT_TAG)?.Value;
    if (owner !== undefined && this.opts.project !== undefined && owner !== this.opts.project) {
      // Two projects moving one secret's labels undo each other: AWSCURRENT would be whichever wrote last.
      throw new RotorError(`Secrets Manager secret ${name} belongs to another Rotor project (${PROJECT_TAG} ${owner}; this project is ${this.opts.project})`, {
        outcome: 'usage',
        hint: 'give this project its own `prefix`, or rotate the secret from the project that made it; nothing was changed',
      });
    }
    if (found) {
      await this.ensureReplicas(name, found);
      this.known.add(name);
    }
  }

  /**
   * Replicates an existing secret to the configured regions it lacks (one made before the
   * region was configured, or by someone else). A region whose replication failed is left
   * to the operator: forcing it would overwrite a secret of the same name in that region.
   */
  private async ensureReplicas(name: string, described: DescribeSecretResponse): Promise<void> {
    const add = missingReplicas(described, this.opts.replicaRegions);
    if (!add.length) return;
    try {
      await this.opts.client.send(new ReplicateSecretToRegionsCommand({
        SecretId: name, AddReplicaRegions: add.map((Region) => ({ Region, ...(this.opts.kmsKeyId ? { KmsKeyId: this.opts.kmsKeyId } : {}) })),
      }));
    } catch (err) {
      throw awsError(err, { action: 'ReplicateSecretToRegions', resource: name, kmsKeyId: this.opts.kmsKeyId });
    }
  }

  /**
   * A secret is created without a value: CreateSecret with one would label it AWSCURRENT
   * before Rotor has proven it.
   */
  private async ensureSecret(secretId: string): Promise<void> {
    const name = this.nameOf(secretId);
    if (this.known.has(name)) return;
    const found = await this.describe(name);
    if (found) await this.ensureReplicas(name, found);
    else {
      try {
        await this.opts.client.send(new CreateSecretCommand({
          Name: name,
          Description: `managed by Rotor: ${secretId}`,
          ...(this.opts.kmsKeyId ? { KmsKeyId: this.opts.kmsKeyId } : {}),
          Tags: [{ Key: 'managed-by', Value: 'rotor' }, { Key: 'rotor:secret', Value: secretId }, ...(this.opts.project ? [{ Key: PROJECT_TAG, Value: this.opts.project }] : [])],
          ...(this.opts.replicaRegions?.length ? { AddReplicaRegions: this.opts.replicaRegions.map((Region) => ({ Region, ...(this.opts.kmsKeyId ? { KmsKeyId: this.opts.kmsKeyId } : {}) })) } : {}),
        }));
      } catch (err) {
        // Another Rotor process made it between our look and our create.
        if (awsErrorName(err) !== 'ResourceExistsException') throw awsError(err, { action: 'CreateSecret', resource: name, kmsKeyId: this.opts.kmsKeyId });
      }
    }
    this.known.add(name);
  }

  async putVersion(req: PutVersionRequest): Promise<void> {
    await this.ensureSecret(req.secretId);
    const name = this.nameOf(req.secretId);
    // Asked first rather than left to the token: a repeated PutSecretValue would move the
    // version's labels back to AWSPENDING, and not every implementation refuses a token
    // reused with another value (moto overwrites it).
    const token = versionToken(req);
    const stored = this.absent.has(token) ? undefined : await this.getVersion(req);
    if (stored === req.plaintext) return;
    if (stored !== undefined) throw new IntegrityError(`${name} version ${token}`, 'version already stored with another value; refusing to overwrite');
    try {
      await this.opts.client.send(new PutSecretValueCommand({
        SecretId: name, ClientRequestToken: token, SecretString: req.plaintext, VersionStages: ['AWSPENDING'],
      }));
      this.absent.delete(token);
      const model = this.labels.get(name);
      if (model) {
        // A secret's first version gets AWSCURRENT from Secrets Manager too.
        const first = !Object.values(model).some((l) => l.includes('AWSCURRENT'));
        relabel(model, 'AWSPENDING', token);
        if (first) relabel(model, 'AWSCURRENT', token);
      }
    } catch (err) {
      this.absent.delete(token);
      this.labels.delete(name);
      if (awsErrorName(err) === 'ResourceExistsException') {
        // The token is taken by another value: a stored version is never replaced.
        throw new IntegrityError(`${name} version ${token}`, 'version already stored with another value; refusing to overwrite');
      }
      this.known.delete(name);
      throw awsError(err, { action: 'PutSecretValue', resource: name, kmsKeyId: this.opts.kmsKeyId });
    }
  }

  async getVersion(req: GetVersionRequest): Promise<string | undefined> {
    const name = this.nameOf(req.secretId);
    try {
      const got = await this.opts.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionToken(req) }));
      return got.SecretString;
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') {
        this.absent.add(versionToken(req));
        return undefined;
      }
      throw awsError(err, { action: 'GetSecretValue', resource: name, kmsKeyId: this.opts.kmsKeyId });
    }
  }

  /**
   * AWSCURRENT as Secrets Manager serves it, for `rotor adopt --from-store`; undefined when
   * there is no such secret or it has no text value (a SecretBinary is not a Rotor value).
   */
  async readCurrent(secretId: string): Promise<CurrentValue | undefined> {
    const name = this.nameOf(secretId);
    try {
      const got = await this.opts.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }));
      if (got.SecretString === undefined || got.VersionId === undefined) return undefined;
      return { plaintext: got.SecretString, versionId: got.VersionId, source: `AWSCURRENT of ${name}` };
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
      throw awsError(err, { action: 'GetSecretValue', resource: name, kmsKeyId: this.opts.kmsKeyId });
    }
  }

  async syncStages(req: SyncStagesRequest): Promise<SyncStagesResponse> {
    const name = this.nameOf(req.secretId);
    const ours = new Set<string>();
    const want = new Map<string, string>();
    for (const v of req.versions) {
      const token = versionToken({ secretId: req.secretId, ...v });
      ours.add(token);
      const label = LABEL_OF[v.stage];
      if (label) want.set(label, token);
    }
    const known = this.labels.get(name);
    let described = known ? { VersionIdsToStages: known } : await this.describe(name);
    if (!described) return { foreign: [] };
    for (const v of req.retired ?? []) ours.add(versionToken({ secretId: req.secretId, ...v }));
    const foreign: string[] = [];
    for (const label of LABELS) {
      const holder = holderOf(described, label);
      const target = want.get(label);
      if (target === holder) continue;
      const unlisted = target !== undefined && !(target in (described.VersionIdsToStages ?? {}));
      if (holder !== undefined && !ours.has(holder)) {
        const fate = target === undefined
          ? (label === 'AWSCURRENT' ? 'left there until Rotor has a current version' : 'removed')
          : label === 'AWSPENDING' && unlisted ? 'removed; Rotor\'s new version takes it when written' : 'moved to Rotor\'s';
        if (holder !== req.adopted) foreign.push(`${label} was on version ${holder} of ${name}, which Rotor did not write (a stuck Secrets Manager rotation, or a value written by hand?); ${fate}`);
        // The adopted version: its value is Rotor's version now, so AWSCURRENT moves to that
        // and the AWSPREVIOUS Secrets Manager hands it on the way is taken off too. Readers of
        // AWSCURRENT get the same credential; AWSPREVIOUS matters only during a changeover,
        // and at the first rotation's promote it lands on Rotor's adopted version, which holds
        // this same value. Left here, it would name a version Rotor's journal does not know,
        // and the next sync would take it off anyway.
        else if (label === 'AWSCURRENT') foreign.push(`AWSCURRENT moved from version ${holder} of ${name} (the value adopted) to Rotor's; that version keeps no label`);
      }
      if (target === undefined && label === 'AWSCURRENT') {
        // Secrets Manager keeps AWSCURRENT on some version; with none staged current it stays.
        continue;
      }
      if (label === 'AWSPENDING' && unlisted) {
        // The version about to be written: PutSecretValue labels it AWSPENDING itself.
        if (holder !== undefined) await this.moveLabel(name, label, undefined, holder, false);
        continue;
      }
      const moved = await this.moveLabel(name, label, target, holder, unlisted);
      // Moving AWSCURRENT drags AWSPREVIOUS along, where Secrets Manager decides (AWS and
      // moto differ when the target held it): asked rather than modelled.
      if (moved && label === 'AWSCURRENT') described = (await this.describe(name)) ?? described;
    }
    const warnings = await this.replicasAfter(req, name, want.get('AWSCURRENT'));
    return { foreign, ...(warnings.length ? { warnings } : {}) };
  }

  /**
   * Reads the staged-current version back in every replica region once per process and
   * version: after a promote, a rollback, an adopt, or a first version (which Secrets
   * Manager labels AWSCURRENT itself, so no label moves). Not while a version is pending:
   * AWSCURRENT is then the value from before, already checked or not Rotor's news.
   */
  private async replicasAfter(req: SyncStagesRequest, name: string, current: string | undefined): Promise<string[]> {
    const regions = this.opts.replicaRegions ?? [];
    if (!regions.length || !this.opts.replicaClient || current === undefined || this.replicasChecked.get(name) === current) return [];
    if (req.versions.some((v) => v.stage === 'pending')) return [];
    // Fresh from the service: the replication status of each region is part of the answer.
    const described = await this.describe(name);
    if (!described || holderOf(described, 'AWSCURRENT') !== current) return [];
    this.replicasChecked.set(name, current);
    const value = await this.opts.client.send(new GetSecretValueCommand({ SecretId: name, VersionId: current }))
      .then((got) => got.SecretString, () => undefined);
    return checkReplicas({
      name, current: { versionId: current, value }, regions, described, clientFor: this.opts.replicaClient,
      ...(this.opts.replicaWaitMs !== undefined ? { waitMs: this.opts.replicaWaitMs } : {}),
    });
  }

  /**
   * Moves `label` to `target` (or removes it when undefined); false when `target` is not
   * stored. `unlisted`: the description did not list `target`, which may then not exist.
   */
  private async moveLabel(name: string, label: string, target: string | undefined, holder: string | undefined, unlisted: boolean): Promise<boolean> {
    try {
      await this.opts.client.send(new UpdateSecretVersionStageCommand({
        SecretId: name, VersionStage: label,
        ...(target ? { MoveToVersionId: target } : {}),
        ...(holder ? { RemoveFromVersionId: holder } : {}),
      }));
      const model = this.labels.get(name);
      if (model) relabel(model, label, target);
      return true;
    } catch (err) {
      this.labels.delete(name);
      // A version Rotor stages but never stored here (stored elsewhere before a move of
      // stores, or a crash before its write): nothing to label.
      // (AWS answers ResourceNotFoundException; moto InvalidParameterException.)
      const code = awsErrorName(err);
      if (unlisted && (code === 'ResourceNotFoundException' || code === 'InvalidParameterException')) return false;
      throw awsError(err, { action: 'UpdateSecretVersionStage', resource: name, kmsKeyId: this.opts.kmsKeyId });
    }
  }

  async close(): Promise<void> {}
}

/** Moves `label` to `target` (off every version when undefined) in a label model. */
function relabel(model: Record<string, string[]>, label: string, target: string | undefined): void {
  for (const [id, labels] of Object.entries(model)) {
    const rest = labels.filter((l) => l !== label);
    if (rest.length) model[id] = rest;
    else delete model[id];
  }
  if (target !== undefined) model[target] = [...(model[target] ?? []), label];
}

function holderOf(d: DescribeSecretResponse, label: string): string | undefined {
  for (const [id, labels] of Object.entries(d.VersionIdsToStages ?? {})) if (labels.includes(label)) return id;
  return undefined;
}
