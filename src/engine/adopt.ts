/**
 * `rotor adopt`: the value in use before Rotor becomes version 1 `current`, after it is
 * proven at the target. Adopted, it is rotated and revoked like any version: the first
 * rotation's rollback restores it, and its retire revokes it (SPEC "Nothing left behind").
 * The value comes on stdin, or from the secret's own store when its service already serves
 * one Rotor did not write (`--from-store`: a Secrets Manager secret's AWSCURRENT).
 */
import type { SecretConfig } from '../config/schema.js';
import { describeError, RotorError, UsageError } from '../errors.js';
import type { SecretValue } from '../rotators/types.js';
import { isStagedVersionStore, type CurrentValue } from '../stores/types.js';
import type { AnyRotator, EngineDeps } from './context.js';
import { releaseInCommit, releaseUnstarted, takeOne } from './locks.js';
import { requestFor } from './rotator-pool.js';
import { mirrorStages } from './stage-mirror.js';
import { newRotationId } from './rotation-id.js';
import { fingerprintOf, serialize, valueAccess } from './values.js';

export interface AdoptResult {
  secretId: string;
  version: number;
  rotationId: string;
  detail: string;
}

/**
 * What the value is for: adopting the one in use (`from`: where it was read, when not
 * stdin), or setting the next version (`rotor set`).
 */
export type ValuePurpose = { kind: 'adopt'; from?: string } | { kind: 'set'; version: number; current: SecretValue | undefined };

/** Where adopt takes the value: what was piped in, or the store's current value (VersionStore.readCurrent). */
export type AdoptSource = { kind: 'stdin'; text: string } | { kind: 'store' };

/**
 * Takes what the user typed: a whole value (JSON, as `rotor get` prints it, or the plain
 * string of a string type), or a bare password that becomes the login this purpose needs —
 * the one the strategy starts from (adopt), or the one the next version uses (set: for
 * `alternating`, the login not in use). A whole value must name that same login: adopting
 * another role's password would make Rotor revoke or hand out someone else's credential.
 */
export async function valueFrom(
  deps: EngineDeps, rotator: AnyRotator, secret: SecretConfig, input: string, signal: AbortSignal, purpose: ValuePurpose = { kind: 'adopt' },
): Promise<SecretValue> {
  const schema = deps.definitionOf(secret).valueSchema;
  const text = input.replace(/\r?\n$/, '');
  const command = `rotor ${purpose.kind} ${secret.id}`;
  const from = purpose.kind === 'adopt' ? purpose.from : undefined;
  /** Nothing is stored on any refusal; a value read from the store is left where it is. */
  const fixIt = from ? `fix ${from} to hold the value as the type needs it, or pipe the value in use into \`${command}\`; nothing was changed` : undefined;
  if (!text) throw new UsageError(from ? `${from} is empty` : 'no value on stdin', fixIt ?? `pipe it into \`${command}\``);
  const request = requestFor(deps.config, secret, signal);
  /** The login (every field but the password) this purpose needs, when the type has one. */
  let login: Promise<Record<string, unknown> | undefined> | undefined;
  const expectedLogin = (): Promise<Record<string, unknown> | undefined> => (login ??= (async () => {
    if (!rotator.adoptValue) return undefined;
    const value = purpose.kind === 'adopt'
      ? (await rotator.adoptValue({ ...request, input: 'placeholder-password' })).value
      : (await rotator.generate({ ...request, version: purpose.version, current: purpose.current })).value;
    return typeof value === 'object' && value !== null && 'password' in value ? (value as Record<string, unknown>) : undefined;
  })());

  const candidates: unknown[] = [];
  // In a store, a string may be JSON-quoted already: that is how Rotor itself stores one.
  if (text.startsWith('{') || (from && text.startsWith('"'))) {
    try {
      candidates.push(JSON.parse(text));
    } catch {
      // Not JSON after all: a password may start with a brace.
    }
  }
  candidates.push(text);
  for (const c of candidates) {
    const parsed = schema.safeParse(c);
    if (!parsed.success) continue;
    const expected = typeof parsed.data === 'object' ? await expectedLogin() : undefined;
    if (expected) {
      const differs = Object.keys(expected).filter((k) => k !== 'password' && JSON.stringify(expected[k]) !== JSON.stringify((parsed.data as Record<string, unknown>)[k]));
      if (differs.length) {
        const want = differs.map((k) => `${k} ${JSON.stringify(expected[k])}`).join(', ');
        throw new UsageError(`the value ${from ? `in ${from}` : 'given'} is not for this secret's login: it needs ${want}`, fixIt ?? 'give the password alone, and Rotor completes the login');
      }
    }
    return parsed.data;
  }
  if (rotator.adoptValue) {
    const value = purpose.kind === 'adopt'
      ? (await rotator.adoptValue({ ...request, input: text })).value
      : { ...((await expectedLogin()) ?? {}), password: text };
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
  }
  throw new UsageError(
    `what ${from ? `${from} holds` : 'was given on stdin'} is not a value of a ${secret.type} secret`,
    fixIt ?? (rotator.adoptValue
      ? 'give the password alone, or the whole value as JSON (the shape `rotor get` prints)'
      : 'give the whole value as `rotor get` prints it (JSON for structured values)'),
  );
}

export async function adoptValue(
  deps: EngineDeps, rotator: AnyRotator, secret: SecretConfig, source: AdoptSource, opts: { reason: string | null; signal: AbortSignal },
): Promise<AdoptResult> {
  if (!(await takeOne(deps, secret.id))) throw new UsageError(`${secret.id} is locked by another Rotor process`, 'wait for it to finish, or run `rotor resume` if it died');
  let released = false;
  try {
    // Only before any value went live: versions that all failed (a first rotation rolled
    // back) do not count, the credential in use is still the one from before Rotor.
    const versions = await deps.state.versions(secret.id);
    if (versions.some((v) => v.stage !== 'failed') || (await deps.state.openRotations(secret.id)).length) {
      throw new UsageError(
        `${secret.id} already has versions: only a secret Rotor has never rotated can adopt a value`,
        'once a rotation went live, its retire revokes what Rotor did not hold; to hand in a new value, use `rotor set`',
      );
    }
    const version = (await deps.state.maxVersion(secret.id)) + 1;
    const request = requestFor(deps.config, secret, opts.signal);
    const access = valueAccess(deps, secret);
    // Adopting moves AWSCURRENT: a secret Secrets Manager rotates itself, or will delete, is refused here too.
    if (isStagedVersionStore(access.store)) await access.store.preflight({ secretId: secret.id });
    await rotator.preflight({ ...request, supplied: true });
    const current = source.kind === 'store' ? await currentInStore(access.store, secret) : undefined;
    if (current) deps.redactor.register(current.plaintext);
    const value = current
      ? await valueFrom(deps, rotator, secret, current.plaintext, opts.signal, { kind: 'adopt', from: current.source })
      : await valueFrom(deps, rotator, secret, source.kind === 'stdin' ? source.text : '', opts.signal, { kind: 'adopt' });
    deps.redactor.register(value);
    let proof: string | undefined;
    try {
      proof = (await rotator.verify({ ...request, value })).detail;
    } catch (err) {
      if (err instanceof RotorError && err.outcome === 'usage') throw err;
      throw new UsageError(
        `${secret.id}: the value given does not work at the target: ${describeError(err)}`,
        'adopt the credential services use today; nothing was stored',
      );
    }
    const now = deps.now();
    const rotationId = newRotationId(now);
    await access.store.putVersion({ secretId: secret.id, version, rotationId, plaintext: serialize(value) });
    const detail = [
      `adopted ${current ? current.source : 'the value in use'} as v${version}${proof ? ` (${proof})` : ''}`,
      ...(current ? takeoverNotes(current, value) : []),
    ].join('; ');
    await deps.state.commit([
      {
        kind: 'rotation.insert',
        row: {
          id: rotationId, secretId: secret.id, trigger: 'manual', reason: opts.reason ?? 'adopted', incident: null, actor: deps.actor,
          status: 'succeeded', fromVersion: null, toVersion: version, graceMs: 0, step: null, phase: null, retireAfter: null,
          startedAt: now, finishedAt: now, error: null,
        },
      },
      {
        kind: 'version.insert',
        row: { secretId: secret.id, version, stage: 'current', createdAt: now, stageChangedAt: now, rotationId, fingerprint: fingerprintOf(access, secret.id, value), expiresAt: null },
      },
      {
        kind: 'audit',
        event: { at: now, actor: deps.actor, action: 'secret.adopted', secretId: secret.id, version, rotationId, outcome: 'ok', reason: opts.reason ?? 'adopted', incident: null, detail },
      },
      releaseInCommit(deps, secret.id),
    ]);
    released = true;
    const foreign = await mirrorStages(deps, secret, access.store, undefined, current?.versionId);
    return { secretId: secret.id, version, rotationId, detail: [detail, ...foreign].join('; ') };
  } finally {
    if (!released) await releaseUnstarted(deps, secret.id, { quiet: true });
  }
}

/** The value the secret's store serves today, or a refusal saying to pipe it in. */
async function currentInStore(store: ReturnType<typeof valueAccess>['store'], secret: SecretConfig): Promise<CurrentValue> {
  const hint = `pipe the value in use on stdin: printf %s "$VALUE" | rotor adopt ${secret.id}`;
  if (!store.readCurrent) throw new UsageError(`${secret.id}: this store (${store.kind}) holds no value to adopt; pipe it on stdin`, hint);
  const current = await store.readCurrent(secret.id);
  if (!current) throw new UsageError(`${secret.id}: its ${store.kind} store serves no current text value to adopt (no such secret, or a binary one)`, hint);
  return current;
}

/**
 * What readers of the store see change when Rotor's version takes over: Rotor stores every
 * value as JSON, so a plain string gains quotes, and an object keeps only its type's keys.
 * Names keys, never values.
 */
function takeoverNotes(current: CurrentValue, value: SecretValue): string[] {
  const stored = serialize(value);
  if (stored === current.plaintext) return [];
  if (typeof value === 'string') {
    return [`${current.source} now holds it as Rotor stores every value, a JSON string (in quotes): apps that read it as raw text must parse it`];
  }
  let before: unknown;
  try {
    before = JSON.parse(current.plaintext);
  } catch {
    return [];
  }
  if (typeof before !== 'object' || before === null || typeof value !== 'object' || value === null) return [];
  const dropped = Object.keys(before).filter((k) => !Object.hasOwn(value, k));
  return dropped.length ? [`${current.source} no longer has the keys ${dropped.join(', ')}, which this type's value does not keep`] : [];
}
