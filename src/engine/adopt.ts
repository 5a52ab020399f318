/**
 * `rotor adopt`: the value in use before Rotor becomes version 1 `current`, after it is
 * proven at the target. Adopted, it is rotated and revoked like any version: the first
 * rotation's rollback restores it, and its retire revokes it (SPEC "Nothing left behind").
 */
import type { SecretConfig } from '../config/schema.js';
import { describeError, RotorError, UsageError } from '../errors.js';
import type { SecretValue } from '../rotators/types.js';
import type { AnyRotator, EngineDeps } from './context.js';
import { requestFor } from './rotator-pool.js';
import { newRotationId } from './rotation-id.js';
import { fingerprintOf, serialize, valueAccess } from './values.js';

export interface AdoptResult {
  secretId: string;
  version: number;
  rotationId: string;
  detail: string;
}

/**
 * Takes what the user typed: a whole value (JSON, as `rotor get` prints it, or the plain
 * string of a string type), or a bare password the rotator completes into its login.
 */
export async function valueFrom(deps: EngineDeps, rotator: AnyRotator, secret: SecretConfig, input: string, signal: AbortSignal): Promise<SecretValue> {
  const schema = deps.definitionOf(secret).valueSchema;
  const text = input.replace(/\r?\n$/, '');
  if (!text) throw new UsageError('no value on stdin', `pipe the value in use today into \`rotor adopt ${secret.id}\``);
  const candidates: unknown[] = [];
  if (text.startsWith('{')) {
    try {
      candidates.push(JSON.parse(text));
    } catch {
      // Not JSON after all: a password may start with a brace.
    }
  }
  candidates.push(text);
  for (const c of candidates) {
    const parsed = schema.safeParse(c);
    if (parsed.success) return parsed.data;
  }
  if (rotator.adoptValue) {
    const { value } = await rotator.adoptValue({ ...requestFor(deps.config, secret, signal), input: text });
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
  }
  throw new UsageError(
    `what was given on stdin is not a value of a ${secret.type} secret`,
    rotator.adoptValue
      ? 'give the password alone, or the whole value as JSON (the shape `rotor get` prints)'
      : 'give the whole value as `rotor get` prints it (JSON for structured values)',
  );
}

export async function adoptValue(
  deps: EngineDeps, rotator: AnyRotator, secret: SecretConfig, input: string, opts: { reason: string | null; signal: AbortSignal },
): Promise<AdoptResult> {
  const { busy } = await deps.state.acquireLocks([secret.id], deps.owner);
  if (busy.size) throw new UsageError(`${secret.id} is locked by another Rotor process`, 'wait for it to finish, or run `rotor resume` if it died');
  let released = false;
  try {
    if ((await deps.state.maxVersion(secret.id)) > 0 || (await deps.state.openRotations(secret.id)).length) {
      throw new UsageError(
        `${secret.id} already has versions: only a secret Rotor has never rotated can adopt a value`,
        'its first rotation\'s retire already revoked what Rotor did not hold; to hand in a new value, use `rotor set`',
      );
    }
    const request = requestFor(deps.config, secret, opts.signal);
    await rotator.preflight({ ...request, supplied: true });
    const value = await valueFrom(deps, rotator, secret, input, opts.signal);
    deps.redactor.register(value);
    let proof: string | undefined;
    try {
      proof = (await rotator.verify({ ...request, value })).detail;
    } catch (err) {
      if (err instanceof RotorError && err.outcome === 'usage') throw err;
      throw new UsageError(
        `${secret.id}: the value given does not work at the target: ${deps.redactor.redact(describeError(err))}`,
        'adopt the credential services use today; nothing was stored',
      );
    }
    const access = valueAccess(deps, secret);
    const now = deps.now();
    const rotationId = newRotationId(now);
    await access.store.putVersion({ secretId: secret.id, version: 1, rotationId, plaintext: serialize(value) });
    const detail = `adopted the value in use as v1${proof ? ` (${proof})` : ''}`;
    await deps.state.commit([
      {
        kind: 'rotation.insert',
        row: {
          id: rotationId, secretId: secret.id, trigger: 'manual', reason: opts.reason ?? 'adopted', incident: null, actor: deps.actor,
          status: 'succeeded', fromVersion: null, toVersion: 1, graceMs: 0, step: null, phase: null, retireAfter: null,
          startedAt: now, finishedAt: now, error: null,
        },
      },
      {
        kind: 'version.insert',
        row: { secretId: secret.id, version: 1, stage: 'current', createdAt: now, stageChangedAt: now, rotationId, fingerprint: fingerprintOf(access, secret.id, value) },
      },
      {
        kind: 'audit',
        event: { at: now, actor: deps.actor, action: 'secret.adopted', secretId: secret.id, version: 1, rotationId, outcome: 'ok', reason: opts.reason ?? 'adopted', incident: null, detail },
      },
      { kind: 'lock.release', secretId: secret.id, ownerId: deps.owner.id },
    ]);
    released = true;
    return { secretId: secret.id, version: 1, rotationId, detail };
  } finally {
    if (!released) await deps.state.releaseLocks([secret.id], deps.owner).catch(() => {});
  }
}
