/**
 * The SQLite driver: the shared state-store conformance suite (one line), then what only
 * SQLite can get wrong: a damaged file, and a database an older Rotor migrated.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveKeys, newMasterKey } from '../../src/crypto/master-key.js';
import { IntegrityError } from '../../src/errors.js';
import { openStateStore } from '../../src/state/registry.js';
import { MIGRATIONS } from '../../src/state/sqlite/migrations.js';
import type { StateStore } from '../../src/state/types.js';
import { runStateConformance, type StateUnderTest } from './conformance.js';

function sqliteState(): StateUnderTest & { path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-state-'));
  const path = join(dir, 'state.db');
  return { path, open: (opts) => openStateStore({ driver: 'sqlite', path }, opts), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

runStateConformance('sqlite', sqliteState);

describe('sqlite state: damage and migrations', () => {
  const states: ReturnType<typeof sqliteState>[] = [];
  const stores: StateStore[] = [];
  const fresh = () => {
    const s = sqliteState();
    states.push(s);
    return s;
  };
  const open = async (s: StateUnderTest, create = false) => {
    const store = await s.open({ create, host: 'test-host' });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const s of states.splice(0)) s.remove();
  });

  /** A state with a few hundred audit events, closed (so the WAL is checkpointed into the file). */
  const filled = async () => {
    const s = fresh();
    const store = await open(s, true);
    await store.useAuditKey(deriveKeys(newMasterKey()).audit);
    await store.commit(Array.from({ length: 500 }, (_, i) => ({
      kind: 'audit' as const,
      event: { at: i, actor: 'test', action: `event ${i} ${'x'.repeat(200)}`, secretId: null, version: null, rotationId: null, outcome: 'info' as const, reason: null, incident: null, detail: null },
    })));
    await store.close();
    return s;
  };

  /** Overwrites pages near the end, which hold the audit table: opening does not read them, so the damage waits to be found. */
  const damageAuditPages = (path: string) => {
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    bytes.fill(0x5a, bytes.length - 3 * pageSize + 100, bytes.length - pageSize);
    writeFileSync(path, bytes);
  };

  it('a damaged page: integrityCheck throws IntegrityError naming the file', async () => {
    const s = await filled();
    damageAuditPages(s.path);
    const store = await open(s);
    const err = await store.integrityCheck().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).message).toContain(s.path);
    expect((err as IntegrityError).message).toMatch(/state database is damaged/);
  });

  it('a damaged header: opening throws IntegrityError, and the file is left as it was', async () => {
    const s = await filled();
    const bytes = readFileSync(s.path);
    bytes.write('NOT A SQLITE FILE', 0);
    writeFileSync(s.path, bytes);
    await expect(s.open({ host: 'test-host' })).rejects.toBeInstanceOf(IntegrityError);
    expect(readFileSync(s.path).equals(bytes)).toBe(true);
  });

  it('a damaged page found by a query (not by the check) is an IntegrityError too', async () => {
    const s = await filled();
    damageAuditPages(s.path);
    const store = await open(s);
    const read = (async () => {
      for await (const e of store.auditEvents()) void e;
    })();
    await expect(read).rejects.toBeInstanceOf(IntegrityError);
  });

  it('events tampered to sort before any real one are still read, so verification sees them', async () => {
    const s = await filled();
    const db = new Database(s.path);
    db.exec('UPDATE audit SET at = -1000 WHERE seq = 3; UPDATE audit SET seq = -7 WHERE seq = 1');
    db.close();
    const store = await open(s);
    const seqs = [];
    for await (const e of store.auditEvents()) seqs.push(e.seq);
    expect(seqs.slice(0, 3)).toEqual([-7, 2, 3]);
    expect(seqs).toHaveLength(500);
  });

  it('a database an older Rotor made gains the expiry column: its versions read back with expiresAt null', async () => {
    const s = fresh();
    const db = new Database(s.path);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version <= 2)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0);
    }
    db.prepare('INSERT INTO versions VALUES (?,?,?,?,?,?,?)').run('a', 1, 'current', 10, 10, 'r1', 'fp');
    db.close();

    const store = await open(s);
    expect(await store.versions('a')).toEqual([
      { secretId: 'a', version: 1, stage: 'current', createdAt: 10, stageChangedAt: 10, rotationId: 'r1', fingerprint: 'fp', expiresAt: null },
    ]);
  });
});
