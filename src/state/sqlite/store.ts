/**
 * The SQLite state store (better-sqlite3): one file, WAL mode, synchronous=FULL so a
 * committed record survives power loss, and group commit so that concurrent rotations
 * share fsyncs instead of paying one each. Every SQLite error that means a damaged file
 * leaves as IntegrityError (`guard`), as the StateStore contract asks of every driver.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { uptime } from 'node:os';
import { GENESIS, keyedFromMarker, macEvent, readHead, readKeyedFrom, signHead } from '../../audit/chain.js';
import { IntegrityError, UnkeyedAuditError } from '../../errors.js';
import { corruptionError } from './corruption.js';
import { MIGRATIONS } from './migrations.js';
import type {
  AuditEvent, AuditInput, LockOwner, LockRow, Mutation, RotationRow, SecretSummary, Stage, StateStore, StepRow, TokenRow, VersionRow,
} from '../types.js';
import { auditFromRow, lockFromRow, rotationFromRow, stepFromRow, tokenFromRow, versionFromRow } from './rows.js';

type Pending = { mutations: Mutation[]; resolve: () => void; reject: (err: unknown) => void };

const ROTATION_COLUMNS: Record<keyof RotationRow, string> = {
  id: 'id', secretId: 'secret_id', trigger: 'trigger', reason: 'reason', incident: 'incident', actor: 'actor',
  status: 'status', fromVersion: 'from_version', toVersion: 'to_version', graceMs: 'grace_ms', step: 'step', phase: 'phase',
  retireAfter: 'retire_after', startedAt: 'started_at', finishedAt: 'finished_at', error: 'error',
};

export interface SqliteOptions {
  path: string;
  /** Open without creating the file; commands that only read use this. */
  mustExist?: boolean;
  isAlive?: (pid: number) => boolean;
  host: string;
  /** How long a lock lives without renewal (default 30 s); renewed at a third of it. */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 30_000;
/** Audit events read at a time. */
const AUDIT_PAGE = 1000;
/** When this process started (ms): a lock with its pid taken earlier was another process's. */
const PROCESS_STARTED = Date.now() - process.uptime() * 1000;

export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly isAlive: (pid: number) => boolean;
  private readonly host: string;
  private readonly leaseMs: number;
  /** Owners whose leases this store renews while they hold locks. */
  private readonly renewing = new Set<string>();
  private renewTimer: NodeJS.Timeout | undefined;
  private audit: { key: Buffer; keyedFrom: number } | undefined;
  private readonly path: string;

  constructor(opts: SqliteOptions) {
    this.isAlive = opts.isAlive ?? pidIsAlive;
    this.host = opts.host;
    // A lease shorter than a second would expire between two renewals of a busy process.
    this.leaseMs = Math.max(1_000, opts.leaseMs ?? DEFAULT_LEASE_MS);
    this.path = opts.path;
    if (!opts.mustExist) mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    // Created owner-only: the audit log and metadata are nobody else's to read (SQLite gives
    // the -wal and -shm files the database file's mode).
    if (!opts.mustExist && !existsSync(opts.path)) closeSync(openSync(opts.path, 'a', 0o600));
    try {
      this.db = new Database(opts.path, { fileMustExist: opts.mustExist ?? false });
      this.db.pragma('busy_timeout = 10000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      this.migrate();
    } catch (err) {
      throw corruptionError(opts.path, err) ?? err;
    }
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }).immediate();
    }
  }

  commit(mutations: Mutation[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ mutations, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // A timer rather than setImmediate: waiting one tick of the timer loop lets the
        // other rotations in flight join the same transaction, and so share its fsync.
        setTimeout(() => this.flush(), 0);
      }
    });
  }

  /** Everything queued during one turn of the event loop goes into one transaction. */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.flushScheduled = false;
    if (!batch.length) return; // close() flushed it already
    try {
      this.transaction(() => batch.forEach((p) => this.apply(p.mutations)));
      this.commits++;
      batch.forEach((p) => p.resolve());
    } catch {
      // One bad batch member must not fail the others: retry each alone.
      for (const p of batch) {
        try {
          this.transaction(() => this.apply(p.mutations));
          this.commits++;
          p.resolve();
        } catch (err) {
          p.reject(corruptionError(this.path, err) ?? err);
        }
      }
    }
  }

  private transaction(fn: () => void): void {
    this.db.transaction(() => {
      this.headToWrite = undefined;
      fn();
      // The log's keyed head, once per transaction however many events it appended.
      if (this.headToWrite) this.stmt("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)").run(this.headToWrite);
    }).immediate();
  }

  /** The head record the current transaction's last audit event leaves. */
  private headToWrite: string | undefined;

  /** Runs `fn` on the database, reporting a damaged file as IntegrityError. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw corruptionError(this.path, err) ?? err;
    }
  }

  private guardedTransaction(fn: () => void): void {
    this.guard(() => this.transaction(fn));
  }

  private apply(mutations: Mutation[]): void {
    for (const m of mutations) {
      switch (m.kind) {
        case 'rotation.insert': {
          const r = m.row;
          this.stmt('INSERT INTO rotations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)').run(
            r.id, r.secretId, r.trigger, r.reason, r.incident, r.actor, r.status, r.fromVersion, r.toVersion, r.graceMs,
            r.step, r.phase, r.retireAfter, r.startedAt, r.finishedAt, r.error,
          );
          break;
        }
        case 'rotation.update': {
          const keys = Object.keys(m.set) as (keyof typeof m.set)[];
          if (!keys.length) break;
          const sql = `UPDATE rotations SET ${keys.map((k) => `${ROTATION_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`;
          this.stmt(sql).run(...keys.map((k) => m.set[k] ?? null), m.id);
          break;
        }
        case 'step':
          this.stmt('INSERT INTO steps (rotation_id, step, phase, at, detail) VALUES (?,?,?,?,?)').run(
            m.row.rotationId, m.row.step, m.row.phase, m.row.at, m.row.detail,
          );
          break;
        case 'version.insert': {
          const v = m.row;
          // A resumed create re-inserts the row it may already have written: same value, same fingerprint.
          this.stmt(
            'INSERT OR IGNORE INTO versions (secret_id, version, stage, created_at, stage_changed_at, rotation_id, fingerprint, expires_at) VALUES (?,?,?,?,?,?,?,?)',
          ).run(v.secretId, v.version, v.stage, v.createdAt, v.stageChangedAt, v.rotationId, v.fingerprint, v.expiresAt);
          break;
        }
        case 'version.stage':
          this.stmt('UPDATE versions SET stage = ?, stage_changed_at = ? WHERE secret_id = ? AND version = ?').run(
            m.stage, m.at, m.secretId, m.version,
          );
          break;
        case 'lock.release':
          this.stmt('DELETE FROM locks WHERE secret_id = ? AND owner_id = ?').run(m.secretId, m.ownerId);
          break;
        case 'audit':
          this.appendAudit(m.event);
          break;
        case 'token.insert': {
          const t = m.row;
          this.stmt('INSERT INTO tokens (id, name, role, hash, created_at, created_by, revoked_at) VALUES (?,?,?,?,?,?,?)').run(
            t.id, t.name, t.role, t.hash, t.createdAt, t.createdBy, t.revokedAt,
          );
          break;
        }
        case 'token.revoke':
          this.stmt('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(m.at, m.id);
          break;
      }
    }
  }

  async useAuditKey(key: Buffer, opts: { acceptLegacy?: boolean } = {}): Promise<number> {
    let keyedFrom: number | undefined;
    let unmarked = false;
    this.guardedTransaction(() => {
      const marker = this.stmt("SELECT value FROM meta WHERE key = 'audit_keyed_from'").pluck().get() as string | undefined;
      if (marker === undefined) {
        const last = (this.stmt('SELECT MAX(seq) FROM audit').pluck().get() as number | null) ?? 0;
        // An empty log beside recorded rotations was emptied, not new.
        const history = (this.stmt('SELECT COUNT(*) FROM rotations').pluck().get() as number) > 0;
        // A new chain is keyed from its first event. Events without a marker are either an
        // older Rotor's or a chain someone rewrote without the key (deleting the marker to
        // pass it off as old): only a person who has checked them may accept them.
        if ((last > 0 || history) && !opts.acceptLegacy) {
          unmarked = true;
          return;
        }
        this.stmt("INSERT INTO meta VALUES ('audit_keyed_from', ?)").run(keyedFromMarker(key, last + 1));
        // The accepted events end where the log ends now.
        const end = this.stmt('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
        if (end) this.stmt("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)").run(signHead(key, end.seq, end.hash));
        else this.stmt("DELETE FROM meta WHERE key = 'audit_head'").run();
        keyedFrom = last + 1;
      } else {
        keyedFrom = readKeyedFrom(key, marker);
      }
    });
    if (unmarked) {
      throw new UnkeyedAuditError(this.path, 'the audit log has events but no keyed-chain marker: written by a Rotor older than the keyed chain, or rewritten by someone without the master key', undefined, {
        hint: 'compare `rotor audit export` with a copy you trust; if it matches, run `rotor audit accept-legacy` once to key the chain from here on',
      });
    }
    if (keyedFrom === undefined) {
      throw new IntegrityError(this.path, 'the audit chain\'s start marker was changed (or the master key is another one)');
    }
    this.audit = { key, keyedFrom };
    return keyedFrom;
  }

  private appendAudit(event: AuditInput): void {
    if (!this.audit) throw new Error('audit event appended before the audit key was set (a bug: open the state with the master key)');
    // Inside an IMMEDIATE transaction no other process can append, so the head read here is the head.
    const head = (this.stmt('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined) ?? {
      seq: 0,
      hash: GENESIS,
    };
    const seq = head.seq + 1;
    const hash = macEvent(this.audit.key, seq, head.hash, event);
    this.stmt('INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)').run(
      seq, event.at, event.actor, event.action, event.secretId, event.version, event.rotationId, event.outcome,
      event.reason, event.incident, event.detail, head.hash, hash,
    );
    // The head, keyed, in the same transaction: events cut from the end of the log leave a
    // head that no longer matches, and without the key it cannot be moved back.
    this.headToWrite = signHead(this.audit.key, seq, hash);
  }

  async auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    if (!this.audit) throw new Error('the audit head is read with the audit key (useAuditKey first)');
    const text = this.guard(() => this.stmt("SELECT value FROM meta WHERE key = 'audit_head'").pluck().get()) as string | undefined;
    if (text === undefined) return undefined;
    const head = readHead(this.audit.key, text);
    if (!head) throw new IntegrityError(this.path, 'the audit log\'s head record was changed');
    return head;
  }

  private readonly statements = new Map<string, Database.Statement>();
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  async acquireLocks(secretIds: string[], owner: LockOwner): Promise<{ busy: Map<string, LockRow> }> {
    const busy = new Map<string, LockRow>();
    const now = Date.now();
    this.guardedTransaction(() => {
      for (const id of secretIds) {
        const row = this.stmt('SELECT * FROM locks WHERE secret_id = ?').get(id);
        if (row) {
          const lock = lockFromRow(row);
          if (lock.ownerId !== owner.id && !this.isStale(lock, now)) {
            busy.set(id, lock);
            continue;
          }
        }
        this.stmt('INSERT OR REPLACE INTO locks (secret_id, rotation_id, pid, host, acquired_at, owner_id, expires_at) VALUES (?,?,?,?,?,?,?)')
          .run(id, null, owner.pid, owner.host, now, owner.id, now + this.leaseMs);
      }
    });
    this.renew(owner);
    return { busy };
  }

  /**
   * Whose holder is gone: on this host, its process has exited (a live one keeps its lock
   * even if a pause let the lease run out); on another host, it stopped renewing.
   */
  private isStale(lock: LockRow, now: number): boolean {
    // Taken before this machine last booted: its pid may belong to another process now. Taken
    // with this process's own pid before this process started: an earlier process that had
    // the same pid (a restarted container, where every run is pid 1) holds it no more.
    if (lock.host === this.host) {
      return lock.acquiredAt < now - uptime() * 1000 || !this.isAlive(lock.pid) || (lock.pid === process.pid && lock.acquiredAt < PROCESS_STARTED);
    }
    return lock.expiresAt <= now;
  }

  /** Keeps `owner`'s leases alive while it holds any; the timer never keeps the process up. */
  private renew(owner: LockOwner): void {
    this.renewing.add(owner.id);
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      try {
        const until = Date.now() + this.leaseMs;
        for (const id of this.renewing) {
          const held = this.stmt('UPDATE locks SET expires_at = ? WHERE owner_id = ?').run(until, id).changes;
          if (!held) this.renewing.delete(id);
        }
        if (!this.renewing.size) this.stopRenewing();
      } catch {
        // A busy database delays a renewal; the next tick tries again well before expiry.
      }
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  async releaseLocks(secretIds: string[], owner: LockOwner): Promise<void> {
    this.guardedTransaction(() => {
      for (const id of secretIds) this.stmt('DELETE FROM locks WHERE secret_id = ? AND owner_id = ?').run(id, owner.id);
    });
  }

  async locks(): Promise<LockRow[]> {
    const now = Date.now();
    return this.guard(() => this.stmt('SELECT * FROM locks ORDER BY secret_id').all()).map(lockFromRow).map((l) => ({ ...l, stale: this.isStale(l, now) }));
  }

  async clearStaleLocks(owner: LockOwner): Promise<LockRow[]> {
    const cleared: LockRow[] = [];
    const now = Date.now();
    this.guardedTransaction(() => {
      for (const lock of this.stmt('SELECT * FROM locks').all().map(lockFromRow)) {
        if (lock.ownerId === owner.id || !this.isStale(lock, now)) continue;
        this.stmt('DELETE FROM locks WHERE secret_id = ? AND owner_id = ?').run(lock.secretId, lock.ownerId);
        cleared.push(lock);
      }
    });
    return cleared;
  }

  async versions(secretId: string): Promise<VersionRow[]> {
    return this.guard(() => this.stmt('SELECT * FROM versions WHERE secret_id = ? ORDER BY version').all(secretId)).map(versionFromRow);
  }

  async liveVersions(secretId: string): Promise<VersionRow[]> {
    const sql = "SELECT * FROM versions WHERE secret_id = ? AND stage IN ('current', 'previous', 'pending') ORDER BY version";
    return this.guard(() => this.stmt(sql).all(secretId)).map(versionFromRow);
  }

  async version(secretId: string, version: number): Promise<VersionRow | undefined> {
    const row = this.guard(() => this.stmt('SELECT * FROM versions WHERE secret_id = ? AND version = ?').get(secretId, version));
    return row ? versionFromRow(row) : undefined;
  }

  async rotations(secretId: string): Promise<RotationRow[]> {
    return this.guard(() => this.stmt('SELECT * FROM rotations WHERE secret_id = ? ORDER BY started_at, id').all(secretId)).map(rotationFromRow);
  }

  async rotation(id: string): Promise<RotationRow | undefined> {
    const row = this.guard(() => this.stmt('SELECT * FROM rotations WHERE id = ?').get(id));
    return row ? rotationFromRow(row) : undefined;
  }

  async steps(rotationId: string): Promise<StepRow[]> {
    return this.guard(() => this.stmt('SELECT * FROM steps WHERE rotation_id = ? ORDER BY seq').all(rotationId)).map(stepFromRow);
  }

  async openRotations(secretId?: string): Promise<RotationRow[]> {
    const open = "status IN ('running', 'grace', 'rolling-back')";
    const rows = this.guard(() => secretId === undefined
      ? this.stmt(`SELECT * FROM rotations WHERE ${open} ORDER BY started_at`).all()
      : this.stmt(`SELECT * FROM rotations WHERE secret_id = ? AND ${open} ORDER BY started_at`).all(secretId));
    return rows.map(rotationFromRow);
  }

  async maxVersion(secretId: string): Promise<number> {
    return this.guard(() => {
      const v = this.stmt('SELECT MAX(version) FROM versions WHERE secret_id = ?').pluck().get(secretId) as number | null;
      const r = this.stmt('SELECT MAX(to_version) FROM rotations WHERE secret_id = ?').pluck().get(secretId) as number | null;
      return Math.max(v ?? 0, r ?? 0);
    });
  }

  async summaries(): Promise<Map<string, SecretSummary>> {
    return this.guard(() => this.readSummaries());
  }

  private readSummaries(): Map<string, SecretSummary> {
    const out = new Map<string, SecretSummary>();
    const get = (id: string) => {
      let s = out.get(id);
      if (!s) {
        s = { secretId: id, currentVersion: null, currentSince: null, currentExpiresAt: null, stageCounts: {}, lastRotation: null };
        out.set(id, s);
      }
      return s;
    };
    for (const row of this.db.prepare('SELECT secret_id, stage, COUNT(*) n, MAX(version) v, MAX(created_at) t, MAX(expires_at) e FROM versions GROUP BY secret_id, stage').iterate()) {
      const r = row as { secret_id: string; stage: Stage; n: number; v: number; t: number; e: number | null };
      const s = get(r.secret_id);
      s.stageCounts[r.stage] = r.n;
      if (r.stage === 'current') {
        s.currentVersion = r.v;
        s.currentSince = r.t;
        s.currentExpiresAt = r.e;
      }
    }
    const last = this.db.prepare(
      `SELECT r.* FROM rotations r JOIN (SELECT secret_id, MAX(started_at) m FROM rotations GROUP BY secret_id) l
         ON r.secret_id = l.secret_id AND r.started_at = l.m`,
    );
    for (const row of last.iterate()) {
      const r = rotationFromRow(row);
      const s = get(r.secretId);
      // Only what a summary promises: the daemon keeps 10,000 of these in memory.
      if (!s.lastRotation || s.lastRotation.id < r.id) s.lastRotation = { id: r.id, status: r.status, startedAt: r.startedAt, finishedAt: r.finishedAt, error: r.error };
    }
    return out;
  }

  /**
   * Page by page, and no statement left open between pages: a commit on this connection
   * may run while the caller is still reading. Without `since` and on the first page there
   * is no lower bound on `at` or `seq`, so an event whose time or number was set below any
   * real one is still read, and verification catches it.
   */
  async *auditEvents(since = -Infinity): AsyncIterable<AuditEvent> {
    let page = this.guard(() => this.stmt('SELECT * FROM audit WHERE at >= ? ORDER BY seq LIMIT ?').all(since, AUDIT_PAGE)).map(auditFromRow);
    for (;;) {
      yield* page;
      if (page.length < AUDIT_PAGE) return;
      const after = page.at(-1)!.seq;
      page = this.guard(() => this.stmt('SELECT * FROM audit WHERE at >= ? AND seq > ? ORDER BY seq LIMIT ?').all(since, after, AUDIT_PAGE))
        .map(auditFromRow);
    }
  }

  async tokens(): Promise<TokenRow[]> {
    return this.guard(() => this.stmt('SELECT * FROM tokens ORDER BY created_at, id').all().map(tokenFromRow));
  }

  async token(id: string): Promise<TokenRow | undefined> {
    return this.guard(() => {
      const row = this.stmt('SELECT * FROM tokens WHERE id = ?').get(id);
      return row === undefined ? undefined : tokenFromRow(row);
    });
  }

  /** SQLite's data_version moves when another connection commits; this connection's own commits are counted here. */
  async changeMarker(): Promise<string> {
    // A prepared statement, not db.pragma(): the daemon asks on every request.
    return this.guard(() => `${String(this.stmt('PRAGMA data_version').pluck().get())}.${this.commits}`);
  }

  private commits = 0;

  async checkKeyId(keyId: string): Promise<boolean> {
    return this.guard(() => {
      const stored = this.stmt("SELECT value FROM meta WHERE key = 'master_key_id'").pluck().get() as string | undefined;
      if (stored === undefined) {
        this.stmt("INSERT OR IGNORE INTO meta VALUES ('master_key_id', ?)").run(keyId);
        return true;
      }
      return stored === keyId;
    });
  }

  /** SQLite's quick_check: every page of the file is read, so its cost grows with the database. */
  async integrityCheck(): Promise<void> {
    const result = this.guard(() => this.db.pragma('quick_check', { simple: true }));
    if (result !== 'ok') throw new IntegrityError(this.path, `the state database is damaged (SQLite quick_check: ${String(result)})`);
  }

  async close(): Promise<void> {
    this.stopRenewing();
    this.flush();
    this.db.close();
  }
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
