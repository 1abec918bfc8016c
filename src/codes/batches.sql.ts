import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { encodeRow } from '../db/copy-text';
import { isPool, transaction, type Queryable, type Tx } from '../db/pool';
import type { CodeFormat } from './format';
import { countCodes } from '../lists/counters';

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
export async function reserveFormat(
  db: Queryable,
  formatKey: string,
  count: number,
  capacity: bigint,
): Promise<boolean> {
  await db.query('INSERT INTO code_formats (format_key) VALUES ($1) ON CONFLICT DO NOTHING', [formatKey]);
  const { rowCount } = await db.query(
    'UPDATE code_formats SET reserved = reserved + $2 WHERE format_key = $1 AND reserved + $2 <= $3::numeric',
    [formatKey, count, capacity.toString()],
  );
  return rowCount === 1;
}

export async function reservedFor(db: Queryable, formatKey: string): Promise<bigint> {
  const { rows } = await db.query<{ reserved: string }>('SELECT reserved FROM code_formats WHERE format_key = $1', [
    formatKey,
  ]);
  return BigInt(rows[0]?.reserved ?? 0);
}

export async function releaseFormat(db: Queryable, formatKey: string, count: number): Promise<void> {
  await db.query('UPDATE code_formats SET reserved = greatest(0, reserved - $2) WHERE format_key = $1', [
    formatKey,
    count,
  ]);
}

export async function insertBatch(
  db: Queryable,
  batch: {
    listId: string;
    name: string | null;
    requested: number;
    notify: string[];
    format: CodeFormat;
    formatKey: string;
    createdBy: string;
  },
): Promise<BatchRow> {
  const { rows } = await db.query<BatchRow>(
    `INSERT INTO batches (list_id, name, requested, notify, format, format_key, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${BATCH}`,
    [
      batch.listId,
      batch.name,
      batch.requested,
      batch.notify,
      JSON.stringify(batch.format),
      batch.formatKey,
      batch.createdBy,
    ],
  );
  return rows[0]!;
}

export async function findBatch(
  db: Queryable,
  id: string,
  lock = false,
): Promise<(BatchRow & { format_key: string }) | undefined> {
  const { rows } = await db.query<BatchRow & { format_key: string }>(
    `SELECT ${BATCH}, format_key FROM batches WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function listBatches(
  db: Queryable,
  listId: string,
  before: string | null,
  limit: number,
): Promise<BatchRow[]> {
  const { rows } = await db.query<BatchRow>(
    `SELECT ${BATCH} FROM batches WHERE list_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [listId, before, limit],
  );
  return rows;
}

/**
 * Codes on their way into a batch, as COPY rows of `codes (code, list_id, source_id)`. Made ahead
 * of the transaction that inserts them (batches.job.ts makes the next chunk's while PostgreSQL
 * inserts the current one), so that the database does not wait for them.
 */
export interface BatchCodes {
  /** `code\tlist_id\tbatch_id\n` for each of `count` codes. */
  rows: Buffer;
  count: number;
}

/** The COPY fields that follow each code of the batch. */
export const batchFields = (batch: { id: string; list_id: string }) => [batch.list_id, batch.id];

/** Given codes (a few, not a generated chunk) as the batch's rows. */
export function batchCodes(batch: { id: string; list_id: string }, codes: readonly string[]): BatchCodes {
  const fields = batchFields(batch);
  let rows = '';
  for (const code of codes) rows += encodeRow([code, ...fields]);
  return { rows: Buffer.from(rows), count: codes.length };
}

/**
 * Inserts up to `room` of the given codes (or rows made ahead by generateRows or batchCodes) into
 * the batch, skipping any that already exist anywhere, and counts them in the batch and the list.
 * Returns how many were new. The caller holds the batch row lock, so `room` is exact.
 *
 * `optimistic`: first load the codes with COPY under a savepoint, and fall back to skipping
 * clashes if any code clashes. COPY writes its rows to the table a page at a time (one WAL
 * record per page rather than per row): a million codes went in ~30% faster than with a plain
 * INSERT … SELECT, which is itself about twice as fast as ON CONFLICT's speculative insertion.
 * `clashed` tells the caller to stop being optimistic. Optimism needs a transaction (for the
 * savepoint). COPY takes free pages wherever the free space map has them, so a batch's rows are
 * not always stored in code order (exports sort them).
 *
 * Skipping clashes: the rows are COPYed into a temporary table, then moved with INSERT … ON
 * CONFLICT DO NOTHING, so that both ways take the same rows and nothing is converted.
 *
 * `sent` is called once the codes are on their way to PostgreSQL, so that the caller can make
 * the next chunk meanwhile without holding up this one.
 */
export async function insertBatchCodes(
  db: Queryable,
  batch: { id: string; list_id: string },
  codes: readonly string[] | BatchCodes,
  room: number,
  optimistic = false,
  sent?: () => void,
): Promise<{ inserted: number; clashed: boolean }> {
  let inserted: number | null = null;
  let clashed = false;
  let told = false;
  const tell = () => {
    if (!told && sent) sent();
    told = true;
  };
  const rows = firstRows('rows' in codes ? codes : batchCodes(batch, codes), room);
  if (rows.count === 0) inserted = 0;
  if (inserted === null && optimistic) {
    await db.query('SAVEPOINT plain_insert');
    try {
      await copyRows(db, 'codes', rows.rows, tell);
      await db.query('RELEASE SAVEPOINT plain_insert');
      inserted = rows.count;
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      await db.query('ROLLBACK TO SAVEPOINT plain_insert');
      clashed = true;
    }
  }
  if (inserted === null) {
    inserted = isPool(db)
      ? await transaction(db, (tx) => insertSkippingClashes(tx, rows.rows, tell))
      : await insertSkippingClashes(db, rows.rows, tell);
  }
  tell();
  if (inserted > 0) {
    await db.query('UPDATE batches SET generated = generated + $2 WHERE id = $1', [batch.id, inserted]);
    await countCodes(db, batch.list_id, inserted);
  }
  return { inserted, clashed };
}

/** The first `room` of the rows. */
function firstRows({ rows, count }: BatchCodes, room: number): BatchCodes {
  if (room >= count) return { rows, count };
  if (room <= 0) return { rows: rows.subarray(0, 0), count: 0 };
  let end = 0;
  for (let i = 0; i < room; i++) end = rows.indexOf(0x0a, end) + 1;
  return { rows: rows.subarray(0, end), count: room };
}

/** COPYs the rows into a table; fails on any clash. */
async function copyRows(db: Queryable, table: string, rows: Buffer, sent: () => void): Promise<void> {
  const copy = db.query(copyFrom(`COPY ${table} (code, list_id, source_id) FROM STDIN`));
  copy.write(rows, () => sent()); // called once the rows are handed to the connection's socket
  copy.end();
  await finished(copy);
}

/** Inserts the rows that are new, in one transaction; returns how many. */
async function insertSkippingClashes(tx: Tx, rows: Buffer, sent: () => void): Promise<number> {
  await tx.query('CREATE TEMPORARY TABLE batch_codes (code text, list_id bigint, source_id bigint) ON COMMIT DROP');
  await copyRows(tx, 'batch_codes', rows, sent);
  const { rowCount } = await tx.query(
    `INSERT INTO codes (code, list_id, source_id) SELECT code, list_id, source_id FROM batch_codes
     ON CONFLICT (code) DO NOTHING`,
  );
  await tx.query('DROP TABLE batch_codes'); // another chunk may come in the same transaction
  return rowCount ?? 0;
}

export async function finishBatch(db: Queryable, id: string, status: 'active' | 'failed', error: string | null) {
  const { rows } = await db.query<BatchRow>(
    `UPDATE batches SET status = $2, error = $3, completed_at = now()
      WHERE id = $1 AND status = 'pending' RETURNING ${BATCH}`,
    [id, status, error],
  );
  return rows[0];
}
