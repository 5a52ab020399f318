/**
 * Online re-encryption of one table to a keyring's primary key, for `rotor reencrypt`.
 *
 * - Batches in primary-key order (keyset pagination), the next batch read while the
 *   current one is written.
 * - Every write is a compare-and-swap (`WHERE col = <the ciphertext read>`), so a row the
 *   application changed in between is never overwritten with stale data; it is picked up
 *   by a later sweep. A row already under the primary is never touched again, so nothing
 *   is double-encrypted.
 * - A checkpoint (the last id done) is written atomically after each batch; a job killed
 *   half-way resumes from it, and re-reading a batch is harmless.
 * - After the full pass, sweeps pick up rows written under an old key in the meantime.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type pg from 'pg';
import type { Keyring } from '../../client/keyring.js';
import { ensureDir, writeFileAtomic } from '../../fs/atomic.js';
import { ident } from '../shared/pg-sql.js';
import { idType, qualified, rowsNotUnder, underKey, type DataSpec } from './data.js';
import { CIPHERTEXT_PREFIX } from '../../client/keyring.js';

export interface ReencryptProgress {
  pass: number;
  scanned: number;
  reencrypted: number;
  /** Rows still to do when the job started (a count taken once, for the progress bar). */
  total: number;
}

export interface ReencryptResult {
  scanned: number;
  reencrypted: number;
  alreadyCurrent: number;
  /** Compare-and-swap misses: the application wrote the row in between (it is swept again). */
  changedConcurrently: number;
  unreadable: { id: string; error: string }[];
  /** Rows still under an old key at the end (an application still writing with it). */
  remaining: number;
  passes: number;
  resumedFrom: string | null;
  ms: number;
}

/** One slice of the id space, worked through in order by one connection. `to` null: no upper bound. */
interface Range {
  from: string | null;
  to: string | null;
  lastId: string | null;
}

interface Checkpoint {
  primary: string;
  ranges: Range[];
  reencrypted: number;
  scanned: number;
}

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);

export interface ReencryptJob {
  pool: pg.Pool;
  data: DataSpec;
  ring: Keyring;
  checkpointFile: string;
  batchSize?: number;
  /** Connections working disjoint id ranges at once (integer ids only; default 3). */
  parallel?: number;
  maxSweeps?: number;
  onProgress?: (p: ReencryptProgress) => void;
}

export async function reencrypt(job: ReencryptJob): Promise<ReencryptResult> {
  const started = performance.now();
  const { pool, data, ring } = job;
  const table = qualified(data.table);
  const id = ident(data.idColumn);
  const col = ident(data.column);
  const type = await idType(pool, data);
  const batch = job.batchSize ?? data.batchSize;

  let checkpoint: Checkpoint | undefined;
  try {
    const saved = JSON.parse(readFileSync(job.checkpointFile, 'utf8')) as Checkpoint;
    if (saved.primary === ring.primaryId && Array.isArray(saved.ranges)) checkpoint = saved;
  } catch {
    // No checkpoint: start from the first row.
  }
  const resumedFrom = checkpoint ? checkpoint.ranges.map((r) => r.lastId ?? r.from ?? 'start').join(', ') : null;
  checkpoint ??= { primary: ring.primaryId, ranges: await split(pool, table, id, type, job.parallel ?? 3), reencrypted: 0, scanned: 0 };
  await ensureDir(dirname(job.checkpointFile));

  const total = await rowsNotUnder(pool, data, ring.primaryId);
  const result: ReencryptResult = {
    scanned: checkpoint.scanned, reencrypted: checkpoint.reencrypted, alreadyCurrent: 0, changedConcurrently: 0, unreadable: [], remaining: 0, passes: 0, resumedFrom, ms: 0,
  };

  const readBatch = async (range: Range, after: string | null, onlyOld: boolean) => {
    const where = [onlyOld ? `${col} LIKE '${CIPHERTEXT_PREFIX}:%' AND ${col} NOT LIKE ${underKey(ring.primaryId)}` : 'TRUE'];
    const params: string[] = [];
    const lower = after ?? range.from;
    if (lower !== null) where.push(`${id} ${after === null ? '>=' : '>'} $${params.push(lower)}::${type}`);
    if (range.to !== null) where.push(`${id} <= $${params.push(range.to)}::${type}`);
    // The text copy of the id gets its own name: `ORDER BY id` would otherwise sort by that
    // output column, as text ("10" before "9"), and a keyset page would skip rows.
    const sql = `SELECT ${id}::text AS row_id, ${col} AS c FROM ${table} WHERE ${where.join(' AND ')} ORDER BY ${id} LIMIT ${batch}`;
    return (await pool.query<{ row_id: string; c: string | null }>(sql, params)).rows.map((r) => ({ id: r.row_id, c: r.c }));
  };

  // Checkpoints are written one after another, each a snapshot taken when its write starts,
  // so the file only ever moves forward even though workers finish batches out of order.
  // Workers do not wait for them (a batch done twice after a crash is harmless), and at most
  // one is queued: a durable write per batch would cost more than the batch.
  let saving: Promise<void> = Promise.resolve();
  let queued = false;
  const save = () => {
    if (queued) return;
    queued = true;
    saving = saving.then(async () => {
      queued = false;
      await writeFileAtomic(job.checkpointFile, JSON.stringify({ ...checkpoint!, reencrypted: result.reencrypted, scanned: result.scanned }));
    });
  };

  const update = `UPDATE ${table} AS t SET ${col} = v.n FROM unnest($1::${type}[], $2::text[], $3::text[]) AS v(id, o, n) WHERE t.${id} = v.id AND t.${col} = v.o`;

  const runRange = async (pass: number, range: Range, onlyOld: boolean, persist: boolean) => {
    let next = readBatch(range, persist ? range.lastId : null, onlyOld);
    for (;;) {
      const rows = await next;
      if (!rows.length) break;
      const last = rows[rows.length - 1]!.id;
      next = readBatch(range, last, onlyOld); // read ahead while this batch is written
      const ids: string[] = [];
      const olds: string[] = [];
      const news: string[] = [];
      for (const row of rows) {
        if (row.c === null) continue;
        const keyId = ring.keyIdOf(row.c);
        if (keyId === undefined) continue; // not keyring ciphertext: not this job's to touch
        if (keyId === ring.primaryId) {
          result.alreadyCurrent++;
          continue;
        }
        try {
          news.push(ring.encrypt(ring.decrypt(row.c)));
          ids.push(row.id);
          olds.push(row.c);
        } catch (err) {
          if (result.unreadable.length < 100 && !result.unreadable.some((u) => u.id === row.id)) result.unreadable.push({ id: row.id, error: (err as Error).message });
        }
      }
      if (ids.length) {
        const { rowCount } = await pool.query(update, [ids, olds, news]);
        result.reencrypted += rowCount ?? 0;
        result.changedConcurrently += ids.length - (rowCount ?? 0);
      }
      result.scanned += rows.length;
      if (persist) {
        range.lastId = last;
        save();
      }
      job.onProgress?.({ pass, scanned: result.scanned, reencrypted: result.reencrypted, total });
    }
  };

  const runPass = async (pass: number, onlyOld: boolean, persist: boolean) => {
    result.passes = pass;
    const ranges = persist ? checkpoint!.ranges : checkpoint!.ranges.map((r) => ({ ...r, lastId: null }));
    await Promise.all(ranges.map((r) => runRange(pass, r, onlyOld, persist)));
    await saving;
  };

  await runPass(1, false, true);
  // Sweeps: rows written under an old key while the pass ran, and compare-and-swap misses.
  for (let sweep = 0; sweep < (job.maxSweeps ?? 5); sweep++) {
    const left = await rowsNotUnder(pool, data, ring.primaryId);
    if (left === result.unreadable.length) break;
    await runPass(result.passes + 1, true, false);
  }
  result.remaining = await rowsNotUnder(pool, data, ring.primaryId);
  rmSync(job.checkpointFile, { force: true });
  result.ms = performance.now() - started;
  return result;
}

/** Splits integer ids into `parts` equal ranges; other id types are worked as one range. */
async function split(pool: pg.Pool, table: string, id: string, type: string, parts: number): Promise<Range[]> {
  if (!INTEGER_TYPES.has(type) || parts <= 1) return [{ from: null, to: null, lastId: null }];
  const { rows } = await pool.query<{ lo: string | null; hi: string | null }>(`SELECT min(${id})::text AS lo, max(${id})::text AS hi FROM ${table}`);
  const lo = rows[0]?.lo;
  const hi = rows[0]?.hi;
  if (lo == null || hi == null) return [{ from: null, to: null, lastId: null }];
  const [a, b] = [BigInt(lo), BigInt(hi)];
  const step = (b - a) / BigInt(parts) + 1n;
  const ranges: Range[] = [];
  for (let i = 0; i < parts; i++) {
    const from = a + step * BigInt(i);
    if (from > b) break;
    // The last range is open above, so rows inserted after the split are covered too.
    ranges.push({ from: i === 0 ? null : String(from), to: i === parts - 1 || from + step - 1n >= b ? null : String(from + step - 1n), lastId: null });
    if (from + step - 1n >= b) break;
  }
  return ranges;
}
