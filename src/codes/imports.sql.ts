import type { Queryable } from '../db/pool';

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

export async function insertImport(db: Queryable, row: { listId: string; name: string | null; notify: string[]; createdBy: string }) {
  const { rows } = await db.query<ImportRow>(
    `INSERT INTO imports (list_id, name, notify, created_by) VALUES ($1, $2, $3, $4) RETURNING ${IMPORT}`,
    [row.listId, row.name, row.notify, row.createdBy],
  );
  return rows[0]!;
}

export async function setTotalLines(db: Queryable, id: string, total: number) {
  const { rows } = await db.query<ImportRow>(`UPDATE imports SET total_lines = $2 WHERE id = $1 RETURNING ${IMPORT}`, [id, total]);
  return rows[0]!;
}

export async function findImport(db: Queryable, id: string, lock = false) {
  const { rows } = await db.query<ImportRow>(`SELECT ${IMPORT} FROM imports WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
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
 * Moves the next `size` staged lines of an import into codes, in one statement: the first
 * line of each code within the chunk is inserted unless the code exists; every other line is
 * recorded as rejected — `invalid` (no valid code), `duplicate` (earlier in the same file) or
 * `code_taken` (another list or import has it). The processed lines are deleted.
 */
export async function processImportChunk(db: Queryable, imp: { id: string; list_id: string }, size: number) {
  await db.query("SET LOCAL work_mem = '128MB'"); // the chunk's sort stays in memory
  const { rows } = await db.query<{ lines: number; accepted: number; rejected: number }>(
    `WITH chunk AS (
       SELECT line, value, code FROM import_lines WHERE import_id = $1 ORDER BY line LIMIT $3
     ), firsts AS (
       SELECT DISTINCT ON (code) line, code, value FROM chunk WHERE code IS NOT NULL ORDER BY code, line
     ), inserted AS (
       INSERT INTO codes (code, list_id, source_id, display)
       SELECT code, $2, $1, NULLIF(value, code) FROM firsts
       ON CONFLICT (code) DO NOTHING
       RETURNING code
     ), rejected AS (
       INSERT INTO import_rejections (import_id, line, value, reason)
       SELECT $1, c.line, c.value,
              CASE WHEN c.code IS NULL THEN 'invalid'
                   WHEN f.line IS NULL THEN 'duplicate'
                   WHEN EXISTS (SELECT 1 FROM codes x WHERE x.code = c.code AND x.source_id = $1) THEN 'duplicate'
                   ELSE 'code_taken' END
         FROM chunk c
         LEFT JOIN firsts f ON f.line = c.line
        WHERE f.line IS NULL OR NOT EXISTS (SELECT 1 FROM inserted i WHERE i.code = c.code)
       RETURNING 1
     ), removed AS (
       -- the chunk is the first lines in order, so a range over the primary key deletes it
       DELETE FROM import_lines WHERE import_id = $1 AND line <= (SELECT max(line) FROM chunk) RETURNING 1
     )
     SELECT (SELECT count(*) FROM removed)::int AS lines,
            (SELECT count(*) FROM inserted)::int AS accepted,
            (SELECT count(*) FROM rejected)::int AS rejected`,
    [imp.id, imp.list_id, size],
  );
  const result = rows[0]!;
  if (result.lines > 0) {
    await db.query('UPDATE imports SET accepted = accepted + $2, rejected = rejected + $3 WHERE id = $1', [imp.id, result.accepted, result.rejected]);
    if (result.accepted > 0) {
      await db.query('UPDATE list_counters SET codes = codes + $2 WHERE list_id = $1 AND slot = 0', [imp.list_id, result.accepted]);
    }
  }
  return result;
}

export async function finishImport(db: Queryable, id: string, status: 'active' | 'failed', error: string | null) {
  const { rows } = await db.query<ImportRow>(
    `UPDATE imports SET status = $2, error = $3, completed_at = now() WHERE id = $1 AND status = 'pending' RETURNING ${IMPORT}`,
    [id, status, error],
  );
  if (rows[0]) await db.query('DELETE FROM import_lines WHERE import_id = $1', [id]);
  return rows[0];
}
