import type { Queryable } from '../db/pool';
import type { CodeFormat } from './format';

export interface BatchRow {
  id: string;
  list_id: string;
  name: string | null;
  requested: number;
  generated: number;
  status: 'pending' | 'active' | 'failed';
  error: string | null;
  notify: string[];
  format: CodeFormat;
  created_at: Date;
  completed_at: Date | null;
}

const BATCH = 'id, list_id, name, requested, generated, status, error, notify, format, created_at, completed_at';

/**
 * Reserves room for `count` codes of a format; false when that would break the sparsity rule.
 * One conditional UPDATE, so concurrent requests cannot both take the last room.
 */
export async function reserveFormat(db: Queryable, formatKey: string, count: number, capacity: bigint): Promise<boolean> {
  await db.query('INSERT INTO code_formats (format_key) VALUES ($1) ON CONFLICT DO NOTHING', [formatKey]);
  const { rowCount } = await db.query(
    'UPDATE code_formats SET reserved = reserved + $2 WHERE format_key = $1 AND reserved + $2 <= $3::numeric',
    [formatKey, count, capacity.toString()],
  );
  return rowCount === 1;
}

export async function reservedFor(db: Queryable, formatKey: string): Promise<bigint> {
  const { rows } = await db.query<{ reserved: string }>('SELECT reserved FROM code_formats WHERE format_key = $1', [formatKey]);
  return BigInt(rows[0]?.reserved ?? 0);
}

export async function releaseFormat(db: Queryable, formatKey: string, count: number): Promise<void> {
  await db.query('UPDATE code_formats SET reserved = greatest(0, reserved - $2) WHERE format_key = $1', [formatKey, count]);
}

export async function insertBatch(
  db: Queryable,
  batch: { listId: string; name: string | null; requested: number; notify: string[]; format: CodeFormat; formatKey: string; createdBy: string },
): Promise<BatchRow> {
  const { rows } = await db.query<BatchRow>(
    `INSERT INTO batches (list_id, name, requested, notify, format, format_key, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${BATCH}`,
    [batch.listId, batch.name, batch.requested, batch.notify, JSON.stringify(batch.format), batch.formatKey, batch.createdBy],
  );
  return rows[0]!;
}

export async function findBatch(db: Queryable, id: string, lock = false): Promise<(BatchRow & { format_key: string }) | undefined> {
  const { rows } = await db.query<BatchRow & { format_key: string }>(
    `SELECT ${BATCH}, format_key FROM batches WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function listBatches(db: Queryable, listId: string, before: string | null, limit: number): Promise<BatchRow[]> {
  const { rows } = await db.query<BatchRow>(
    `SELECT ${BATCH} FROM batches WHERE list_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [listId, before, limit],
  );
  return rows;
}

/**
 * Inserts up to `room` of the given codes (a `{A,B,...}` literal) into the batch, skipping any
 * that already exist anywhere, and counts them in the batch and the list. Returns how many
 * were new. The caller holds the batch row lock, so `room` is exact.
 *
 * `optimistic`: first try a plain INSERT under a savepoint, which is about twice as fast as
 * ON CONFLICT's speculative insertion, and fall back to ON CONFLICT DO NOTHING if any code
 * clashes. `clashed` tells the caller to stop being optimistic.
 */
export async function insertBatchCodes(
  db: Queryable,
  batch: { id: string; list_id: string },
  literal: string,
  room: number,
  optimistic = false,
): Promise<{ inserted: number; clashed: boolean }> {
  const insert = (onConflict: string) =>
    db.query(
      `INSERT INTO codes (code, list_id, source_id)
       SELECT c, $2, $3 FROM unnest($1::text[]) AS c LIMIT $4 ${onConflict}`,
      [literal, batch.list_id, batch.id, room],
    );
  let inserted: number | null = null;
  let clashed = false;
  if (optimistic) {
    await db.query('SAVEPOINT plain_insert');
    try {
      inserted = (await insert('')).rowCount ?? 0;
      await db.query('RELEASE SAVEPOINT plain_insert');
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      await db.query('ROLLBACK TO SAVEPOINT plain_insert');
      clashed = true;
    }
  }
  inserted ??= (await insert('ON CONFLICT (code) DO NOTHING')).rowCount ?? 0;
  if (inserted > 0) {
    await db.query('UPDATE batches SET generated = generated + $2 WHERE id = $1', [batch.id, inserted]);
    await db.query('UPDATE list_counters SET codes = codes + $2 WHERE list_id = $1 AND slot = 0', [batch.list_id, inserted]);
  }
  return { inserted, clashed };
}

export async function finishBatch(db: Queryable, id: string, status: 'active' | 'failed', error: string | null) {
  const { rows } = await db.query<BatchRow>(
    `UPDATE batches SET status = $2, error = $3, completed_at = now() WHERE id = $1 AND status = 'pending' RETURNING ${BATCH}`,
    [id, status, error],
  );
  return rows[0];
}
