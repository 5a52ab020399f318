/**
 * The SQLite schema's migrations, applied in order inside one transaction each. Never edit
 * a shipped migration: append a new one. Another driver keeps its own list: the SQL is
 * SQLite's.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE versions (
        secret_id TEXT NOT NULL, version INTEGER NOT NULL, stage TEXT NOT NULL,
        created_at INTEGER NOT NULL, stage_changed_at INTEGER NOT NULL,
        rotation_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
        PRIMARY KEY (secret_id, version)
      );
      CREATE INDEX versions_stage ON versions (secret_id, stage);
      CREATE TABLE rotations (
        id TEXT PRIMARY KEY, secret_id TEXT NOT NULL, trigger TEXT NOT NULL, reason TEXT, incident TEXT,
        actor TEXT NOT NULL, status TEXT NOT NULL, from_version INTEGER, to_version INTEGER NOT NULL, grace_ms INTEGER NOT NULL,
        step TEXT, phase TEXT, retire_after INTEGER, started_at INTEGER NOT NULL, finished_at INTEGER, error TEXT
      );
      CREATE INDEX rotations_secret ON rotations (secret_id, started_at);
      CREATE INDEX rotations_open ON rotations (status) WHERE status IN ('running', 'grace', 'rolling-back');
      CREATE TABLE steps (
        rotation_id TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT,
        step TEXT NOT NULL, phase TEXT NOT NULL, at INTEGER NOT NULL, detail TEXT
      );
      CREATE INDEX steps_rotation ON steps (rotation_id);
      CREATE TABLE locks (
        secret_id TEXT PRIMARY KEY, rotation_id TEXT, pid INTEGER NOT NULL, host TEXT NOT NULL, acquired_at INTEGER NOT NULL
      );
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        secret_id TEXT, version INTEGER, rotation_id TEXT, outcome TEXT NOT NULL,
        reason TEXT, incident TEXT, detail TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'lock leases',
    // Locks held by an older Rotor get an expired lease: their holders cannot renew them.
    sql: `
      ALTER TABLE locks ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE locks ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    name: 'version expiry',
    // Certificates are due before they expire, not `interval` after they were made; rows
    // written before this migration have no expiry.
    sql: 'ALTER TABLE versions ADD COLUMN expires_at INTEGER;',
  },
  {
    version: 4,
    name: 'api tokens',
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,
        created_at INTEGER NOT NULL, created_by TEXT NOT NULL, revoked_at INTEGER
      );
      CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
    `,
  },
];
