/**
 * The audit chain is keyed from the master key: an attacker who can write state.db but does
 * not hold the key cannot delete an event and recompute the chain (the rehash attack), and a
 * checkpoint exported earlier catches a rewrite even by someone who holds the key.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';

const sandboxes: Sandbox[] = [];
afterAll(() => sandboxes.forEach((s) => s.remove()));
const sandbox = async () => {
  const sb = new Sandbox('version: 1\nsecrets:\n  - { id: a, type: random }\n  - { id: b, type: random }\n');
  sandboxes.push(sb);
  await sb.ok(['init']);
  for (let i = 0; i < 3; i++) await sb.ok(['rotate', '--all', '--no-grace']);
  return sb;
};

type Row = { seq: number; at: number; actor: string; action: string; secret_id: string | null; version: number | null; rotation_id: string | null; outcome: string; reason: string | null; incident: string | null; detail: string | null; prev_hash: string; hash: string };

/** What an attacker with write access to state.db does: drop an event, renumber, recompute every link with SHA-256. */
function deleteAndRehash(file: string, seq: number, rehash: (seq: number, prev: string, r: Row) => string): void {
  const db = new Database(file);
  db.transaction(() => {
    db.prepare('DELETE FROM audit WHERE seq = ?').run(seq);
    const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as Row[];
    db.prepare('DELETE FROM audit').run();
    let prev = '0'.repeat(64);
    rows.forEach((r, i) => {
      const n = i + 1;
      const hash = rehash(n, prev, r);
      db.prepare('INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)').run(n, r.at, r.actor, r.action, r.secret_id, r.version, r.rotation_id, r.outcome, r.reason, r.incident, r.detail, prev, hash);
      prev = hash;
    });
  })();
  db.close();
}

const sha256Link = (seq: number, prev: string, r: Row) =>
  createHash('sha256').update(JSON.stringify([seq, prev, r.at, r.actor, r.action, r.secret_id, r.version, r.rotation_id, r.outcome, r.reason, r.incident, r.detail])).digest('hex');

describe.concurrent('keyed audit chain', () => {
  it('the rehash attack: an event deleted and the chain recomputed with SHA-256 is detected (exit 3)', async () => {
    const sb = await sandbox();
    await sb.ok(['audit', 'verify']);
    deleteAndRehash(sb.path('.rotor', 'state.db'), 6, sha256Link);
    const r = await sb.run(['audit', 'verify']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/audit event #1 was changed|event #\d+ was changed/);
  });

  it('verify needs the master key, and says so (exit 2)', async () => {
    const sb = await sandbox();
    const r = await sb.run(['audit', 'verify'], { ROTOR_MASTER_KEY: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/master key/i);
  });

  it('a checkpoint exported earlier catches events removed up to it later, even by someone who holds the key', async () => {
    const sb = await sandbox();
    const exported = await sb.ok(['audit', 'export', '--checkpoint', 'cp.json']);
    expect(exported.stdout.trim().split('\n').length).toBeGreaterThan(10);
    expect((await sb.ok(['audit', 'verify', '--checkpoint', 'cp.json'])).stdout).toMatch(/matches the checkpoint of event #\d+/);
    await sb.ok(['rotate', 'a']); // the log grows after the checkpoint: still fine
    await sb.ok(['audit', 'verify', '--checkpoint', 'cp.json']);

    // Truncation: events up to the checkpoint removed.
    const db = new Database(sb.path('.rotor', 'state.db'));
    const cp = JSON.parse(sb.files().get(sb.path('cp.json'))!.toString()) as { seq: number };
    db.prepare('DELETE FROM audit WHERE seq >= ?').run(cp.seq);
    db.close();
    const r = await sb.run(['audit', 'verify', '--checkpoint', 'cp.json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`no longer holds event #${cp.seq}|events were removed from its end`));
  });

  it('an unmarked chain (an older Rotor, or a rewrite that deleted the marker) is refused until a person accepts it', async () => {
    const sb = await sandbox();
    // As an older Rotor left it — or as an attacker without the key leaves it: plain SHA-256 links, no marker.
    deleteAndRehash(sb.path('.rotor', 'state.db'), 6, sha256Link);
    const db = new Database(sb.path('.rotor', 'state.db'));
    db.prepare("DELETE FROM meta WHERE key = 'audit_keyed_from'").run();
    db.close();
    const refused = await sb.run(['audit', 'verify']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/no keyed-chain marker[\s\S]*rotor audit accept-legacy/);
    expect((await sb.run(['rotate', 'a'])).code).toBe(3);
    expect((await sb.ok(['audit', 'accept-legacy'])).stdout).toMatch(/accepted \d+ unkeyed events/);
    await sb.ok(['audit', 'verify']);
    await sb.ok(['rotate', 'a']);
    await sb.ok(['audit', 'verify']);
    // The marker cannot be moved to pass later events off as legacy ones.
    const moved = new Database(sb.path('.rotor', 'state.db'));
    moved.prepare("UPDATE meta SET value = '999:' || substr(value, instr(value, ':') + 1) WHERE key = 'audit_keyed_from'").run();
    moved.close();
    expect((await sb.run(['audit', 'verify'])).code).toBe(3);
  });

  it('events cut from the end of the log, or the whole log emptied, are detected (exit 3)', async () => {
    const tail = await sandbox();
    const db = new Database(tail.path('.rotor', 'state.db'));
    const last = db.prepare('SELECT MAX(seq) AS n FROM audit').get() as { n: number };
    db.prepare('DELETE FROM audit WHERE seq > ?').run(last.n - 3);
    db.close();
    const cut = await tail.run(['audit', 'verify']);
    expect(cut.code).toBe(3);
    expect(cut.stderr).toMatch(/events were removed from its end/);

    const wiped = await sandbox();
    const db2 = new Database(wiped.path('.rotor', 'state.db'));
    db2.prepare('DELETE FROM audit').run();
    db2.prepare("DELETE FROM meta WHERE key IN ('audit_keyed_from', 'audit_head')").run();
    db2.close();
    expect((await wiped.run(['audit', 'verify'])).code).toBe(3);
    expect((await wiped.run(['rotate', 'a'])).code).toBe(3);
  });

  it('a forged or altered checkpoint is refused', async () => {
    const sb = await sandbox();
    await sb.ok(['audit', 'export', '--checkpoint', 'cp.json']);
    const cp = JSON.parse(sb.files().get(sb.path('cp.json'))!.toString()) as { seq: number; hash: string };
    sb.write('forged.json', JSON.stringify({ ...cp, seq: cp.seq - 1 }));
    expect((await sb.run(['audit', 'verify', '--checkpoint', 'forged.json'])).code).toBe(3);
    sb.write('junk.json', '{"hello": 1}');
    expect((await sb.run(['audit', 'verify', '--checkpoint', 'junk.json'])).code).toBe(2);
  });
});
