/**
 * The tests every state driver passes, against the StateStore interface alone (Hono style:
 * a driver adds one line, `runStateConformance('name', newState)`). What only one driver
 * can do wrong (a damaged SQLite page, its migrations) stays in that driver's own test.
 *
 * @example
 * runStateConformance('sqlite', () => sqliteState());
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { deriveKeys, newMasterKey } from '../../src/crypto/master-key.js';
import { IntegrityError, NotFoundError } from '../../src/errors.js';
import type {
  AuditInput, LockOwner, Mutation, RotationRow, StateOpenOptions, StateStore, StepRow, VersionRow,
} from '../../src/state/types.js';
import { collect } from '../helpers/collect.js';

/** One state, empty and not yet created, that tests open as one or more processes would. */
export interface StateUnderTest {
  /** Opens the state; each call is one more process (or daemon) on the same state. */
  open(opts: StateOpenOptions): Promise<StateStore>;
  /** Deletes what the tests made, after every store opened on it is closed. */
  remove(): Promise<void> | void;
}

const T0 = 1_700_000_000_000;

const rotation = (id: string, secretId: string, over: Partial<RotationRow> = {}): RotationRow => ({
  id, secretId, trigger: 'manual', reason: null, incident: null, actor: 'test', status: 'running', fromVersion: null, toVersion: 1,
  graceMs: 0, step: null, phase: null, retireAfter: null, startedAt: T0, finishedAt: null, error: null, ...over,
});

const version = (secretId: string, n: number, over: Partial<VersionRow> = {}): VersionRow => ({
  secretId, version: n, stage: 'pending', createdAt: T0 + n, stageChangedAt: T0 + n, rotationId: `r-${secretId}-${n}`,
  fingerprint: `fp-${secretId}-${n}`, expiresAt: null, ...over,
});

const event = (action: string, at = T0): AuditInput => ({
  at, actor: 'test', action, secretId: null, version: null, rotationId: null, outcome: 'info', reason: null, incident: null, detail: null,
});

const audit = (action: string, at = T0): Mutation => ({ kind: 'audit', event: event(action, at) });
const owner = (id: string, host = 'host-a', pid = process.pid): LockOwner => ({ id, pid, host });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function runStateConformance(name: string, newState: () => StateUnderTest | Promise<StateUnderTest>): void {
  describe(`state store conformance: ${name}`, () => {
    let db: StateUnderTest;
    let opened: StateStore[];
    const auditKey = deriveKeys(newMasterKey()).audit;

    /** Opens the state (creating it) as one more process; closed after the test. */
    const open = async (opts: Partial<StateOpenOptions> = {}): Promise<StateStore> => {
      const store = await db.open({ create: true, host: 'host-a', ...opts });
      opened.push(store);
      return store;
    };
    /** A store with the audit chain keyed, as every command that writes has it. */
    const keyed = async (opts: Partial<StateOpenOptions> = {}): Promise<StateStore> => {
      const store = await open(opts);
      await store.useAuditKey(auditKey);
      return store;
    };
    const closeAll = async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => {});
    };

    beforeEach(async () => {
      db = await newState();
      opened = [];
    });
    afterEach(async () => {
      await closeAll();
      await db.remove();
    });

    describe('opening', () => {
      it('a state that does not exist is a NotFoundError unless asked to create it', async () => {
        await expect(db.open({ host: 'host-a' })).rejects.toBeInstanceOf(NotFoundError);
        await open();
        await closeAll();
        opened.push(await db.open({ host: 'host-a' }));
      });

      it('integrityCheck passes on a healthy state', async () => {
        const s = await keyed();
        await s.commit([{ kind: 'rotation.insert', row: rotation('r1', 'a') }, audit('x')]);
        await expect(s.integrityCheck()).resolves.toBeUndefined();
      });

      it('close lands the commits already made, and another process reads them', async () => {
        const s = await keyed();
        const landed = s.commit([{ kind: 'rotation.insert', row: rotation('r1', 'a') }, audit('before close')]);
        await s.close();
        await landed;
        const again = await open();
        expect(await again.rotation('r1')).toEqual(rotation('r1', 'a'));
      });
    });

    describe('commit', () => {
      it('lands every mutation of one commit, read back as written', async () => {
        const s = await keyed();
        const steps: StepRow[] = [
          { rotationId: 'r1', step: 'create', phase: 'started', at: T0 + 1, detail: null },
          { rotationId: 'r1', step: 'create', phase: 'done', at: T0 + 2, detail: 'stored v1' },
          { rotationId: 'r1', step: 'rollback', phase: 'failed', at: T0 + 3, detail: 'warning: x' },
        ];
        await s.commit([
          { kind: 'rotation.insert', row: rotation('r1', 'a') },
          ...steps.map((row): Mutation => ({ kind: 'step', row })),
          { kind: 'version.insert', row: version('a', 1) },
          audit('rotation.started'),
        ]);
        expect(await s.rotation('r1')).toEqual(rotation('r1', 'a'));
        expect(await s.steps('r1')).toEqual(steps);
        expect(await s.versions('a')).toEqual([version('a', 1)]);
        expect((await collect(s.auditEvents())).map((e) => e.action)).toEqual(['rotation.started']);
      });

      it('a failing mutation fails its whole commit: none of its mutations land', async () => {
        const s = await keyed();
        await s.commit([{ kind: 'rotation.insert', row: rotation('r1', 'a') }, audit('first')]);
        const failing = s.commit([
          { kind: 'version.insert', row: version('a', 1) },
          { kind: 'step', row: { rotationId: 'r1', step: 'create', phase: 'started', at: T0, detail: null } },
          { kind: 'rotation.update', id: 'r1', set: { status: 'succeeded' } },
          audit('second'),
          { kind: 'rotation.insert', row: rotation('r1', 'a') }, // the id exists: this one fails
        ]);
        await expect(failing).rejects.toThrow();
        expect(await s.versions('a')).toEqual([]);
        expect(await s.steps('r1')).toEqual([]);
        expect((await s.rotation('r1'))!.status).toBe('running');
        expect((await collect(s.auditEvents())).map((e) => e.action)).toEqual(['first']);
        // The store still works after the failure.
        await s.commit([{ kind: 'version.insert', row: version('a', 1) }]);
        expect(await s.versions('a')).toHaveLength(1);
      });

      it('concurrent commits all land (group commit), and a failing one fails alone', async () => {
        const s = await keyed();
        await s.commit([{ kind: 'rotation.insert', row: rotation('taken', 'z') }]);
        // Made in one turn of the event loop, so a driver that groups commits groups these; the failing one sits in the middle.
        const commits = Array.from({ length: 21 }, (_, n) => {
          if (n === 7) return s.commit([{ kind: 'version.insert', row: version('z', 1) }, { kind: 'rotation.insert', row: rotation('taken', 'z') }]);
          const i = n < 7 ? n : n - 1;
          return s.commit([{ kind: 'rotation.insert', row: rotation(`r${i}`, `s${i}`) }, { kind: 'version.insert', row: version(`s${i}`, 1) }, audit(`e${i}`)]);
        });
        const results = await Promise.allSettled(commits);
        expect(results.map((r) => r.status)).toEqual(results.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
        expect(await s.versions('z')).toEqual([]);
        for (let i = 0; i < 20; i++) {
          expect(await s.rotation(`r${i}`)).toBeDefined();
          expect(await s.versions(`s${i}`)).toHaveLength(1);
        }
        const events = await collect(s.auditEvents());
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(new Set(events.map((e) => e.action))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `e${i}`)));
        expect((await verifyChain(s.auditEvents(), auditKey, 1)).ok).toBe(true);
      });

      it('rotation.update changes only the fields it names', async () => {
        const s = await open();
        await s.commit([{ kind: 'rotation.insert', row: rotation('r1', 'a', { reason: 'why', toVersion: 2, fromVersion: 1 }) }]);
        await s.commit([{ kind: 'rotation.update', id: 'r1', set: { status: 'grace', step: 'propagate', phase: 'done', retireAfter: T0 + 99 } }]);
        await s.commit([{ kind: 'rotation.update', id: 'r1', set: {} }]);
        expect(await s.rotation('r1')).toEqual(
          rotation('r1', 'a', { reason: 'why', toVersion: 2, fromVersion: 1, status: 'grace', step: 'propagate', phase: 'done', retireAfter: T0 + 99 }),
        );
        await s.commit([{ kind: 'rotation.update', id: 'r1', set: { status: 'succeeded', finishedAt: T0 + 100, error: null, step: null } }]);
        expect(await s.rotation('r1')).toMatchObject({ status: 'succeeded', finishedAt: T0 + 100, step: null, phase: 'done' });
      });
    });

    describe('versions', () => {
      it('stages move with version.stage; liveVersions holds current, previous and pending only', async () => {
        const s = await open();
        await s.commit([{ kind: 'version.insert', row: version('a', 1, { stage: 'current' }) }, { kind: 'version.insert', row: version('a', 2) }]);
        await s.commit([
          { kind: 'version.stage', secretId: 'a', version: 1, stage: 'previous', at: T0 + 50 },
          { kind: 'version.stage', secretId: 'a', version: 2, stage: 'current', at: T0 + 50 },
        ]);
        await s.commit([{ kind: 'version.insert', row: version('a', 3) }, { kind: 'version.insert', row: version('b', 1, { stage: 'current' }) }]);
        await s.commit([
          { kind: 'version.stage', secretId: 'a', version: 1, stage: 'retired', at: T0 + 60 },
          { kind: 'version.stage', secretId: 'a', version: 3, stage: 'failed', at: T0 + 60 },
        ]);
        await s.commit([{ kind: 'version.insert', row: version('a', 4) }]);
        const stages = (rows: VersionRow[]) => rows.map((v) => `v${v.version}:${v.stage}`);
        expect(stages(await s.versions('a'))).toEqual(['v1:retired', 'v2:current', 'v3:failed', 'v4:pending']);
        expect(stages(await s.liveVersions('a'))).toEqual(['v2:current', 'v4:pending']);
        expect(await s.version('a', 2)).toEqual(version('a', 2, { stage: 'current', stageChangedAt: T0 + 50 }));
        expect(await s.version('a', 9)).toBeUndefined();
        expect(await s.versions('nothing')).toEqual([]);
      });

      it('version.insert of a version that exists changes nothing (a resumed create writes its row again)', async () => {
        const s = await open();
        await s.commit([{ kind: 'version.insert', row: version('a', 1) }]);
        await s.commit([{ kind: 'version.insert', row: version('a', 1, { stage: 'failed', fingerprint: 'other' }) }]);
        expect(await s.versions('a')).toEqual([version('a', 1)]);
      });

      it('expiresAt round-trips, null or a time', async () => {
        const s = await open();
        const expiring = version('a', 1, { stage: 'current', expiresAt: T0 + 90 * 86_400_000 });
        await s.commit([{ kind: 'version.insert', row: expiring }, { kind: 'version.insert', row: version('a', 2) }]);
        expect(await s.version('a', 1)).toEqual(expiring);
        expect((await s.liveVersions('a')).map((v) => v.expiresAt)).toEqual([T0 + 90 * 86_400_000, null]);
      });

      it('maxVersion is the highest number a version or a rotation has used', async () => {
        const s = await open();
        expect(await s.maxVersion('a')).toBe(0);
        await s.commit([{ kind: 'version.insert', row: version('a', 2) }]);
        expect(await s.maxVersion('a')).toBe(2);
        // A rotation that crashed before its version row landed still holds its number.
        await s.commit([{ kind: 'rotation.insert', row: rotation('r3', 'a', { fromVersion: 2, toVersion: 3 }) }]);
        expect(await s.maxVersion('a')).toBe(3);
        expect(await s.maxVersion('b')).toBe(0);
      });
    });

    describe('rotations', () => {
      it('openRotations lists running, grace and rolling-back ones, of one secret or of all, oldest first', async () => {
        const s = await open();
        const rows = [
          rotation('r-a1', 'a', { status: 'succeeded', startedAt: T0 + 1 }),
          rotation('r-a2', 'a', { status: 'grace', startedAt: T0 + 5 }),
          rotation('r-b1', 'b', { status: 'rolling-back', startedAt: T0 + 3 }),
          rotation('r-c1', 'c', { status: 'running', startedAt: T0 + 2 }),
          rotation('r-c0', 'c', { status: 'rolled-back', startedAt: T0 }),
          rotation('r-d1', 'd', { status: 'failed', startedAt: T0 + 4 }),
        ];
        await s.commit(rows.map((row): Mutation => ({ kind: 'rotation.insert', row })));
        expect((await s.openRotations()).map((r) => r.id)).toEqual(['r-c1', 'r-b1', 'r-a2']);
        expect((await s.openRotations('a')).map((r) => r.id)).toEqual(['r-a2']);
        expect(await s.openRotations('d')).toEqual([]);
        expect((await s.rotations('c')).map((r) => r.id)).toEqual(['r-c0', 'r-c1']);
        expect(await s.rotation('nope')).toBeUndefined();
        await s.commit([{ kind: 'rotation.update', id: 'r-a2', set: { status: 'succeeded', finishedAt: T0 + 9 } }]);
        expect((await s.openRotations()).map((r) => r.id)).toEqual(['r-c1', 'r-b1']);
      });

      it('summaries: the current version and since when, stage counts, and the last rotation of each secret', async () => {
        const s = await open();
        await s.commit([
          { kind: 'version.insert', row: version('a', 1, { stage: 'retired' }) },
          { kind: 'version.insert', row: version('a', 2, { stage: 'previous' }) },
          { kind: 'version.insert', row: version('a', 3, { stage: 'current', createdAt: T0 + 25, stageChangedAt: T0 + 30 }) },
          { kind: 'rotation.insert', row: rotation('r-a1', 'a', { status: 'succeeded', startedAt: T0 + 1, finishedAt: T0 + 2 }) },
          { kind: 'rotation.insert', row: rotation('r-a2', 'a', { status: 'grace', startedAt: T0 + 20, toVersion: 3 }) },
          { kind: 'rotation.insert', row: rotation('r-b1', 'b', { status: 'running', startedAt: T0 + 5, error: 'boom' }) },
        ]);
        const summaries = await s.summaries();
        expect([...summaries.keys()].sort()).toEqual(['a', 'b']);
        expect(summaries.get('a')).toEqual({
          secretId: 'a', currentVersion: 3, currentSince: T0 + 25, currentExpiresAt: null, stageCounts: { retired: 1, previous: 1, current: 1 },
          lastRotation: expect.objectContaining({ id: 'r-a2', status: 'grace', startedAt: T0 + 20, finishedAt: null, error: null }),
        });
        expect(summaries.get('b')).toEqual({
          secretId: 'b', currentVersion: null, currentSince: null, currentExpiresAt: null, stageCounts: {},
          lastRotation: expect.objectContaining({ id: 'r-b1', status: 'running', error: 'boom' }),
        });
      });
    });

    describe('locks', () => {
      it('acquire takes free locks, reports busy ones with their holder, and release frees only its own', async () => {
        const s = await open();
        const a = owner('owner-a');
        const b = owner('owner-b', 'host-b', 4242);
        expect((await s.acquireLocks(['x', 'y'], a)).busy.size).toBe(0);
        const { busy } = await s.acquireLocks(['y', 'z'], b);
        expect([...busy.keys()]).toEqual(['y']);
        expect(busy.get('y')).toMatchObject({ secretId: 'y', ownerId: 'owner-a', pid: process.pid, host: 'host-a', rotationId: null });
        expect(busy.get('y')!.expiresAt).toBeGreaterThan(Date.now());
        // Its own lock again is no conflict.
        expect((await s.acquireLocks(['x'], a)).busy.size).toBe(0);
        expect((await s.locks()).map((l) => `${l.secretId}:${l.ownerId}`)).toEqual(['x:owner-a', 'y:owner-a', 'z:owner-b']);

        await s.releaseLocks(['x', 'z'], a); // z is b's: left alone
        expect((await s.locks()).map((l) => l.secretId)).toEqual(['y', 'z']);
        await s.commit([{ kind: 'lock.release', secretId: 'y', ownerId: 'owner-b' }]); // not b's either
        await s.commit([{ kind: 'lock.release', secretId: 'z', ownerId: 'owner-b' }]);
        expect((await s.locks()).map((l) => l.secretId)).toEqual(['y']);
        expect((await s.clearStaleLocks(b))).toEqual([]); // a's lease is live
      });

      it('a lock whose lease expired (its holder stopped renewing) is stale: another process takes it or clears it', async () => {
        const leaseMs = 1500;
        const first = await open({ host: 'host-a', leaseMs });
        await first.acquireLocks(['x', 'y'], owner('owner-a', 'host-a'));
        const second = await open({ host: 'host-b', leaseMs });
        const b = owner('owner-b', 'host-b');
        expect([...(await second.acquireLocks(['x'], b)).busy.keys()]).toEqual(['x']);
        expect(await second.clearStaleLocks(b)).toEqual([]);

        await first.close(); // the holder dies: nobody renews its leases
        const expiry = Math.max(...(await second.locks()).map((l) => l.expiresAt));
        await sleep(expiry - Date.now() + 50);

        expect((await second.acquireLocks(['x'], b)).busy.size).toBe(0);
        const cleared = await second.clearStaleLocks(b);
        expect(cleared.map((l) => `${l.secretId}:${l.ownerId}`)).toEqual(['y:owner-a']);
        expect((await second.locks()).map((l) => `${l.secretId}:${l.ownerId}`)).toEqual(['x:owner-b']);
      });

      it('a holder that keeps working renews its lease past the lease time', async () => {
        const leaseMs = 600;
        const first = await open({ host: 'host-a', leaseMs });
        await first.acquireLocks(['x'], owner('owner-a'));
        const taken = (await first.locks())[0]!.expiresAt;
        await sleep(leaseMs * 2.5);
        const second = await open({ host: 'host-b', leaseMs });
        expect([...(await second.acquireLocks(['x'], owner('owner-b', 'host-b'))).busy.keys()]).toEqual(['x']);
        expect((await second.locks())[0]!.expiresAt).toBeGreaterThan(taken);
      });

      it('a lock of a process that is gone on this host is stale at once; on another host only its lease counts', async () => {
        const gone = 4242;
        const first = await open({ host: 'host-a', isAlive: () => true });
        await first.acquireLocks(['x'], owner('owner-a', 'host-a', gone));
        const elsewhere = await open({ host: 'host-b', isAlive: () => false });
        expect([...(await elsewhere.acquireLocks(['x'], owner('owner-b', 'host-b'))).busy.keys()]).toEqual(['x']);
        const sameHost = await open({ host: 'host-a', isAlive: (pid) => pid !== gone });
        expect((await sameHost.acquireLocks(['x'], owner('owner-c', 'host-a'))).busy.size).toBe(0);
        expect((await sameHost.locks()).map((l) => l.ownerId)).toEqual(['owner-c']);
      });
    });

    describe('audit', () => {
      it('appends a chain keyed with the audit key that verifies; `since` reads from a time on', async () => {
        const s = await open();
        const keyedFrom = await s.useAuditKey(auditKey);
        await s.commit([audit('one', T0 + 1)]);
        await s.commit([audit('two', T0 + 2), audit('three', T0 + 3)]);
        const events = await collect(s.auditEvents());
        expect(events.map((e) => [e.seq, e.action])).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
        expect(events[1]).toMatchObject({ ...event('two', T0 + 2), prevHash: events[0]!.hash });
        expect(await verifyChain(s.auditEvents(), auditKey, keyedFrom)).toMatchObject({ ok: true, events: 3, headSeq: 3, head: events[2]!.hash });
        expect((await collect(s.auditEvents(T0 + 2))).map((e) => e.action)).toEqual(['two', 'three']);
        // Another key's chain would not verify: the events carry this key's MACs.
        expect((await verifyChain(s.auditEvents(), deriveKeys(newMasterKey()).audit, keyedFrom)).ok).toBe(false);
      });

      it('an audit event without the audit key fails its commit; the key\'s start marker stays with the state', async () => {
        const s = await open();
        await expect(s.commit([{ kind: 'rotation.insert', row: rotation('r1', 'a') }, audit('unkeyed')])).rejects.toThrow();
        expect(await s.rotation('r1')).toBeUndefined();
        const keyedFrom = await s.useAuditKey(auditKey);
        await s.commit([audit('keyed')]);
        const again = await open();
        expect(await again.useAuditKey(auditKey)).toBe(keyedFrom);
        await expect(again.useAuditKey(deriveKeys(newMasterKey()).audit)).rejects.toBeInstanceOf(IntegrityError);
      });

      it('reads a long log in order, and commits may land while it is read', async () => {
        const s = await keyed();
        const n = 2345;
        await s.commit(Array.from({ length: n }, (_, i) => audit(`e${i}`, T0 + i)));
        let read = 0;
        for await (const e of s.auditEvents()) {
          expect(e.seq).toBe(++read);
          if (read === 10) await s.commit([{ kind: 'rotation.insert', row: rotation('mid-read', 'a') }]);
        }
        expect(read).toBe(n);
        expect(await s.rotation('mid-read')).toBeDefined();
        expect(await verifyChain(s.auditEvents(), auditKey, 1)).toMatchObject({ ok: true, events: n });
        expect((await collect(s.auditEvents(T0 + n - 5))).map((e) => e.seq)).toEqual([n - 4, n - 3, n - 2, n - 1, n]);
      });
    });

    it('API tokens: inserted with their audit event, found by id, revoked once, listed with revoked ones', async () => {
      const s = await keyed();
      const row = { id: 'abcdef0123456789', name: 'grafana', role: 'viewer' as const, hash: 'a'.repeat(64), createdAt: T0, createdBy: 'test', revokedAt: null };
      await s.commit([{ kind: 'token.insert', row }, audit('token.created')]);
      expect(await s.token(row.id)).toEqual(row);
      expect(await s.token('0000000000000000')).toBeUndefined();
      const other = await keyed();
      await other.commit([{ kind: 'token.revoke', id: row.id, at: T0 + 5 }, audit('token.revoked')]);
      await other.commit([{ kind: 'token.revoke', id: row.id, at: T0 + 9 }]); // a second revoke keeps the first time
      expect(await s.token(row.id)).toEqual({ ...row, revokedAt: T0 + 5 });
      // A new live token may take the name of a revoked one; two live ones may not share it.
      await s.commit([{ kind: 'token.insert', row: { ...row, id: '1111111111111111', createdAt: T0 + 1 } }]);
      await expect(s.commit([{ kind: 'token.insert', row: { ...row, id: '2222222222222222' } }])).rejects.toThrow();
      expect((await other.tokens()).map((t) => [t.id, t.revokedAt])).toEqual([[row.id, T0 + 5], ['1111111111111111', null]]);
    });

    it('changeMarker moves when this or another process commits, and only then', async () => {
      const s = await keyed();
      const other = await keyed();
      const m0 = await s.changeMarker();
      expect(await s.changeMarker()).toBe(m0);
      await other.commit([audit('elsewhere')]);
      const m1 = await s.changeMarker();
      expect(m1).not.toBe(m0);
      await s.commit([audit('here')]);
      const m2 = await s.changeMarker();
      expect(m2).not.toBe(m1);
      expect(await s.changeMarker()).toBe(m2);
    });

    it('checkKeyId remembers the first key id and refuses another, across processes', async () => {
      const s = await open();
      expect(await s.checkKeyId('key-1')).toBe(true);
      expect(await s.checkKeyId('key-1')).toBe(true);
      expect(await s.checkKeyId('key-2')).toBe(false);
      const again = await open();
      expect(await again.checkKeyId('key-2')).toBe(false);
      expect(await again.checkKeyId('key-1')).toBe(true);
    });
  });
}
