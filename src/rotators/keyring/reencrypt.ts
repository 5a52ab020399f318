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

interface Checkpoint {
  primary: string;
  lastId: string | null;
  reencrypted: number;
  scanned: number;
}

export interface ReencryptJob {
  pool: pg.Pool;
  data: DataSpec;
  ring: Keyring;
  checkpointFile: string;
  batchSize?: number;
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

  let checkpoint: Checkpoint = { primary: ring.primaryId, lastId: null, reencrypted: 0, scanned: 0 };
  try {
    const saved = JSON.parse(readFileSync(job.checkpointFile, 'utf8')) as Checkpoint;
    if (saved.primary === ring.primaryId) checkpoint = saved;
  } catch {
    // No checkpoint: start from the first row.
  }
  const resumedFrom = checkpoint.lastId;
  await ensureDir(dirname(job.checkpointFile));

  const total = await rowsNotUnder(pool, data, ring.primaryId);
  const result: ReencryptResult = {
    scanned: checkpoint.scanned, reencrypted: checkpoint.reencrypted, alreadyCurrent: 0, changedConcurrently: 0, unreadable: [], remaining: 0, passes: 0, resumedFrom, ms: 0,
  };

  const fetch = async (after: string | null, onlyOld: boolean) => {
    const filter = onlyOld ? `${col} LIKE '${CIPHERTEXT_PREFIX}:%' AND ${col} NOT LIKE ${underKey(ring.primaryId)}` : 'TRUE';
    const sql = after === null
      ? `SELECT ${id}::text AS id, ${col} AS c FROM ${table} WHERE ${filter} ORDER BY ${id} LIMIT ${batch}`
      : `SELECT ${id}::text AS id, ${col} AS c FROM ${table} WHERE ${id} > $1::${type} AND ${filter} ORDER BY ${id} LIMIT ${batch}`;
    return (await pool.query<{ id: string; c: string | null }>(sql, after === null ? [] : [after])).rows;
  };

  const update = `UPDATE ${table} AS t SET ${col} = v.n FROM unnest($1::${type}[], $2::text[], $3::text[]) AS v(id, o, n) WHERE t.${id} = v.id AND t.${col} = v.o`;

  const runPass = async (pass: number, from: string | null, onlyOld: boolean, save: boolean) => {
    result.passes = pass;
    let next = fetch(from, onlyOld);
    for (;;) {
      const rows = await next;
      if (!rows.length) break;
      const last = rows[rows.length - 1]!.id;
      next = fetch(last, onlyOld); // read ahead while this batch is written
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
      if (save) {
        checkpoint = { primary: ring.primaryId, lastId: last, reencrypted: result.reencrypted, scanned: result.scanned };
        await writeFileAtomic(job.checkpointFile, JSON.stringify(checkpoint));
      }
      job.onProgress?.({ pass, scanned: result.scanned, reencrypted: result.reencrypted, total });
    }
  };

  await runPass(1, checkpoint.lastId, false, true);
  // Sweeps: rows written under an old key while the pass ran, and compare-and-swap misses.
  for (let sweep = 0; sweep < (job.maxSweeps ?? 5); sweep++) {
    const left = await rowsNotUnder(pool, data, ring.primaryId);
    if (left === result.unreadable.length) break;
    await runPass(result.passes + 1, null, true, false);
  }
  result.remaining = await rowsNotUnder(pool, data, ring.primaryId);
  rmSync(job.checkpointFile, { force: true });
  result.ms = performance.now() - started;
  return result;
}
