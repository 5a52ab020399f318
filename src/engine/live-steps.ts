/**
 * The five steps that make a new value live — create, apply, verify, promote, propagate —
 * each as what it does between its journal records (journal.ts `runStep`). retire is in
 * retire.ts. Each is idempotent: resume runs an interrupted step again.
 */
import type { SecretValue } from '../rotators/types.js';
import type { Mutation, Step } from '../state/types.js';
import type { EngineDeps } from './context.js';
import { commit } from './journal.js';
import { deliverable, reported, requestOf, valueOf, type Run } from './run.js';
import { mirrorStages } from './stage-mirror.js';
import { fingerprintOf, parseStored, serialize } from './values.js';

/** The steps before a value is live; retire follows after grace. */
export const LIVE_STEPS = ['create', 'apply', 'verify', 'promote', 'propagate'] as const satisfies readonly Step[];
export type LiveStep = (typeof LIVE_STEPS)[number];

/** Does `step`; returns its record line. */
export function actLive(deps: EngineDeps, run: Run, step: LiveStep): Promise<string | undefined> {
  return ACTS[step](deps, run);
}

const ACTS: Record<LiveStep, (deps: EngineDeps, run: Run) => Promise<string | undefined>> = {
  async create(deps, run) {
    const { secret, rotation } = run;
    // A value stored before a crash is reused, never replaced: it may already be applied.
    const stored = await run.access.store.getVersion({ secretId: secret.id, version: rotation.toVersion, rotationId: rotation.id, exact: true });
    // Labels first: one another rotation left pending is cleared before this version takes it.
    const foreign = await mirrorStages(deps, secret, run.access.store, (live) => [...live, { version: rotation.toVersion, rotationId: rotation.id, stage: 'pending' }]);
    run.warnings.push(...foreign);
    let value: SecretValue;
    if (stored !== undefined) {
      value = parseStored(run.access, secret.id, rotation.toVersion, stored);
    } else {
      const current = rotation.fromVersion === null ? undefined : await valueOf(deps, run, rotation.fromVersion);
      // Through the value schema once, so what is stored (and fingerprinted) has the exact
      // shape every later read produces, and a rotator bug cannot store a malformed value.
      value = run.supplied ?? run.access.valueSchema.parse((await run.rotator.generate({ ...requestOf(deps, run), version: rotation.toVersion, current })).value);
      deps.redactor.register(value);
      await run.access.store.putVersion({ secretId: secret.id, version: rotation.toVersion, rotationId: rotation.id, plaintext: serialize(value) });
    }
    run.values.set(rotation.toVersion, value);
    const now = deps.now();
    // The vault file is the durable record of the value; the row describing it rides
    // with the next commit, which lands before apply acts. Resume finds the file either way.
    run.deferred.push({
      kind: 'version.insert',
      row: {
        secretId: secret.id, version: rotation.toVersion, stage: 'pending', createdAt: now, stageChangedAt: now,
        rotationId: rotation.id, fingerprint: fingerprintOf(run.access, secret.id, value), expiresAt: null,
      },
    });
    return [stored !== undefined ? `reused v${rotation.toVersion} stored before an interruption` : `stored v${rotation.toVersion}`, ...foreign].join('; ');
  },

  async apply(deps, run) {
    const { rotation } = run;
    const pending = await valueOf(deps, run, rotation.toVersion);
    const current = rotation.fromVersion === null ? undefined : await valueOf(deps, run, rotation.fromVersion);
    return reported(run, await run.rotator.apply({ ...requestOf(deps, run), pending, current }));
  },

  async verify(deps, run) {
    // Read back through the store: what is verified is what was durably stored.
    const value = await valueOf(deps, run, run.rotation.toVersion, { fresh: true });
    return reported(run, await run.rotator.verify({ ...requestOf(deps, run), value }));
  },

  async promote(deps, run) {
    const { secret, rotation } = run;
    const now = deps.now();
    const mutations: Mutation[] = [
      { kind: 'version.stage', secretId: secret.id, version: rotation.toVersion, stage: 'current', at: now },
    ];
    if (rotation.fromVersion !== null) mutations.push({ kind: 'version.stage', secretId: secret.id, version: rotation.fromVersion, stage: 'previous', at: now });
    await commit(deps, run, mutations);
    return `v${rotation.toVersion} is current`;
  },

  async propagate(deps, run) {
    const { secret, rotation } = run;
    let detail = 'no consumers';
    if (secret.consumers.length) {
      // Without grace the previous value is retired right after: consumers get the new
      // value without its key at once, so retire's re-delivery changes nothing to reload.
      const gone = rotation.graceMs === 0 ? [rotation.fromVersion] : [];
      // The value in grace goes to `stage: previous` deliveries; without grace there is none.
      const previous = rotation.graceMs === 0 || rotation.fromVersion === null ? null : await deliverable(deps, run, rotation.fromVersion);
      const value = await deliverable(deps, run, rotation.toVersion, gone);
      detail = await run.propagation.forward(secret, { value, version: rotation.toVersion, previous });
    }
    // Grace runs from the moment the last consumer has the new value and is healthy on
    // it: a slow rolling restart must not eat the time old tokens and sessions need.
    const retireAfter = deps.now() + rotation.graceMs;
    run.deferred.push({ kind: 'rotation.update', id: rotation.id, set: { retireAfter } });
    rotation.retireAfter = retireAfter;
    return detail;
  },
};
