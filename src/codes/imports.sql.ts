import type { Queryable } from '../db/pool';
import type { Rejection } from './imports.schema';
import { countCodes } from '../lists/counters';

export interface ImportRow {
  id: string;
  list_id: string;
  name: string | null;
  status: 'pending' | 'active' | 'failed';
  total_lines: number;
  accepted: number;
  rejected: number;
  error: string | null;
  notify: string[];
  created_at: Date;
  completed_at: Date | null;
}

const IMPORT = 'id, list_id, name, status, total_lines, accepted, rejected, error, notify, created_at, completed_at';

export async function insertImport(
  db: Queryable,
  row: { listId: string; name: string | null; notify: string[]; createdBy: string },
) {
  const { rows } = await db.query<ImportRow>(
    `INSERT INTO imports (list_id, name, notify, created_by) VALUES ($1, $2, $3, $4) RETURNING ${IMPORT}`,
    [row.listId, row.name, row.notify, row.createdBy],
  );
  return rows[0]!;
}

export async function setTotalLines(db: Queryable, id: string, total: number) {
  const { rows } = await db.query<ImportRow>(`UPDATE imports SET total_lines = $2 WHERE id = $1 RETURNING ${IMPORT}`, [
    id,
    total,
  ]);
  return rows[0]!;
}

export async function findImport(db: Queryable, id: string, lock = false) {
  const { rows } = await db.query<ImportRow>(
    `SELECT ${IMPORT} FROM imports WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function listImports(db: Queryable, listId: string, before: string | null, limit: number) {
  const { rows } = await db.query<ImportRow>(
    `SELECT ${IMPORT} FROM imports WHERE list_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [listId, before, limit],
  );
  return rows;
}

/**
 * Moves the next `size` staged lines of an import (in file order; all of them when that many
 * remain, the common case) into codes, in one statement. The chunk is sorted by code, so its
 * inserts sweep the primary key of codes once, in order, instead of landing all over it (for a
 * million lines, ~5 s instead of ~13 s). The first line of each code within the chunk is
 * inserted unless the code exists; every other line is recorded as rejected — `invalid` (no
 * valid code), `duplicate` (earlier in the same file) or `code_taken` (another list or import
 * has it). The processed lines are then removed (removeStagedLines).
 *
 * `optimistic`: insert plainly, under a savepoint, rather than with ON CONFLICT DO NOTHING,
 * whose speculative insertion costs an extra WAL record per code (plain is ~40% faster). A
 * plain insert cannot skip a clash: any taken code (or one that an earlier chunk of this file
 * inserted) fails it, and the chunk is done again with ON CONFLICT; `clashed` tells the caller
 * to stop being optimistic. Without a clash every first line is accepted, so the rejected
 * lines are exactly the invalid ones and the repeats.
 */
export async function processImportChunk(
  db: Queryable,
  imp: { id: string; list_id: string; total_lines: number; accepted: number; rejected: number },
  size: number,
  optimistic = false,
) {
  // Every staged line ends accepted or rejected, so this is what is still staged.
  const rest = imp.total_lines - imp.accepted - imp.rejected;
  // The whole rest needs no order: the sort by code below is the only one. A part of it must
  // be the first lines, which costs a sort by line first.
  const lines =
    rest <= size
      ? 'SELECT line, value, code, problem FROM import_lines WHERE import_id = $1'
      : 'SELECT line, value, code, problem FROM import_lines WHERE import_id = $1 ORDER BY line LIMIT $3';
  // The chunk, its sort and the list of inserted codes stay in memory (~80 MB each for a
  // million lines) rather than spilling to temporary files.
  await db.query("SET LOCAL work_mem = '256MB'");
  const run = (safe: boolean) =>
    db.query<{ lines: number; through: number | null; accepted: number; rejected: number }>(
      `WITH chunk AS MATERIALIZED (
         -- sorted by code (then line) by the window, and read back in that order by the insert
         SELECT line, value, code, problem,
                row_number() OVER (PARTITION BY code ORDER BY line) = 1 AS first,
                first_value(line) OVER (PARTITION BY code ORDER BY line) AS first_line
           FROM (${lines}) l
       ), inserted AS (
         INSERT INTO codes (code, list_id, source_id, display)
         SELECT code, $2, $1, NULLIF(value, code) FROM chunk WHERE first AND code IS NOT NULL
         ${safe ? 'ON CONFLICT (code) DO NOTHING RETURNING code' : ''}
       ), rejected AS (
         INSERT INTO import_rejections (import_id, line, value, reason, detail, repeats_line)
         SELECT $1, line, value, reason,
                CASE WHEN reason = 'invalid' THEN problem END,
                -- the line repeated, when it is in this chunk (an earlier chunk's is not kept)
                CASE WHEN reason = 'duplicate' AND NOT first THEN first_line END
           FROM (SELECT c.*,
                        CASE WHEN c.code IS NULL THEN 'invalid'
                             WHEN NOT c.first THEN 'duplicate'
                             -- inserted by an earlier chunk of this file (looked up by the primary key)
                             WHEN (SELECT x.source_id FROM codes x WHERE x.code = c.code) = $1 THEN 'duplicate'
                             ELSE 'code_taken' END AS reason
                   FROM chunk c
                  WHERE c.code IS NULL OR NOT c.first
                     ${safe ? 'OR NOT EXISTS (SELECT 1 FROM inserted i WHERE i.code = c.code)' : ''}) rejected_line
         RETURNING 1
       )
       SELECT count(*)::int AS lines, max(line) AS through,
              ${
                safe ? '(SELECT count(*) FROM inserted)' : 'count(*) FILTER (WHERE first AND code IS NOT NULL)'
              }::int AS accepted,
              (SELECT count(*) FROM rejected)::int AS rejected
         FROM chunk`,
      rest <= size ? [imp.id, imp.list_id] : [imp.id, imp.list_id, size],
    );
  let clashed = false;
  let result: { lines: number; through: number | null; accepted: number; rejected: number } | undefined;
  if (optimistic) {
    await db.query('SAVEPOINT plain_insert');
    try {
      result = (await run(false)).rows[0]!;
      await db.query('RELEASE SAVEPOINT plain_insert');
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      await db.query('ROLLBACK TO SAVEPOINT plain_insert');
      clashed = true;
    }
  }
  result ??= (await run(true)).rows[0]!;
  if (result.lines > 0) {
    await removeStagedLines(db, imp.id, rest <= size ? null : result.through);
    await db.query('UPDATE imports SET accepted = accepted + $2, rejected = rejected + $3 WHERE id = $1', [
      imp.id,
      result.accepted,
      result.rejected,
    ]);
    if (result.accepted > 0) {
      await countCodes(db, imp.list_id, result.accepted);
    }
  }
  return { lines: result.lines, accepted: result.accepted, rejected: result.rejected, clashed };
}

/**
 * Removes an import's processed lines: those through line `through`, or all when null. A
 * million deleted rows cost ~0.5 s, a WAL record each and a vacuum later; so when they are all
 * the table holds (one import at a time, the usual case) the table is truncated instead, which
 * swaps in an empty file. TRUNCATE needs the table to itself: the lock is only tried (NOWAIT),
 * and an upload or another import at work means deleting after all. Under that lock nobody
 * else can be adding lines, so the check that no other line is staged stays true until commit.
 * (TRUNCATE is not MVCC-safe, which matters to no one here: only import jobs read this table,
 * each its own import's lines under that import's row lock.)
 */
async function removeStagedLines(db: Queryable, importId: string, through: number | null): Promise<void> {
  if (through === null) {
    await db.query('SAVEPOINT truncate_lines');
    try {
      await db.query('LOCK TABLE import_lines IN ACCESS EXCLUSIVE MODE NOWAIT');
      const { rows } = await db.query<{ alone: boolean }>(
        'SELECT NOT EXISTS (SELECT 1 FROM import_lines WHERE import_id <> $1) AS alone',
        [importId],
      );
      if (rows[0]!.alone) {
        await db.query('TRUNCATE import_lines');
        await db.query('RELEASE SAVEPOINT truncate_lines');
        return;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03') throw error; // lock_not_available
    }
    await db.query('ROLLBACK TO SAVEPOINT truncate_lines'); // which also gives the lock back
  }
  await db.query('DELETE FROM import_lines WHERE import_id = $1 AND ($2::int IS NULL OR line <= $2)', [
    importId,
    through,
  ]);
}

export async function finishImport(db: Queryable, id: string, status: 'active' | 'failed', error: string | null) {
  const { rows } = await db.query<ImportRow>(
    `UPDATE imports SET status = $2, error = $3, completed_at = now()
     WHERE id = $1 AND status = 'pending' RETURNING ${IMPORT}`,
    [id, status, error],
  );
  // An import that becomes active has had every line moved already; a failed one may not.
  if (rows[0] && status === 'failed') await db.query('DELETE FROM import_lines WHERE import_id = $1', [id]);
  return rows[0];
}

export async function listRejections(db: Queryable, importId: string, afterLine: number | null, limit: number) {
  const { rows } = await db.query<Rejection>(
    `SELECT line, value, reason, detail, repeats_line FROM import_rejections
      WHERE import_id = $1 AND ($2::int IS NULL OR line > $2) ORDER BY line LIMIT $3`,
    [importId, afterLine, limit],
  );
  return rows;
}
