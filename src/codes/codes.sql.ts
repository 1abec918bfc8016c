import type { Queryable } from '../db/pool';
import { countCancel, lockCancelCounter } from '../lists/counters';

export type CodeStatus = 'available' | 'claimed' | 'cancelled';

export interface CodeRow {
  code: string;
  list_id: string;
  batch_id: string | null;
  import_id: string | null;
  status: CodeStatus;
  claimed_by: string | null;
  claimed_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  source_id: string;
  normalized: string;
}

const STATUS = `CASE WHEN c.cancelled_at IS NOT NULL THEN 'cancelled' WHEN c.claimed_at IS NOT NULL THEN 'claimed'
                    ELSE 'available' END`;

export interface CodeSearch {
  listId: string;
  listType: string;
  /** the batches or imports to walk, in order (for a multi-use list: ['0']) */
  sources: string[];
  status: CodeStatus | null;
  after: [string, string] | null;
  limit: number;
}

/** The sources of a list's codes, in id order: its batches or imports, or 0 for a multi-use code. */
export async function sourcesOf(db: Queryable, listId: string, listType: string): Promise<string[]> {
  if (listType === 'multi_use') return ['0'];
  const table = listType === 'single_use' ? 'batches' : 'imports';
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM ${table} WHERE list_id = $1 ORDER BY id`, [listId]);
  return rows.map((r) => r.id);
}

/**
 * A page of a list's codes in (source, code) order: source by source, each in code order,
 * until the page is full.
 */
export async function searchCodes(db: Queryable, search: CodeSearch): Promise<CodeRow[]> {
  const rows: CodeRow[] = [];
  const [afterSource, afterCode] = search.after ?? [null, null];
  for (const source of search.sources) {
    if (afterSource !== null && BigInt(source) < BigInt(afterSource)) continue;
    const from = afterSource !== null && BigInt(source) === BigInt(afterSource) ? afterCode : null;
    const { rows: page } = await db.query<CodeRow>(
      `SELECT COALESCE(c.display, c.code) AS code, c.code AS normalized, c.list_id, c.source_id,
              CASE WHEN $2 = 'single_use' THEN NULLIF(c.source_id, 0) END AS batch_id,
              CASE WHEN $2 = 'third_party' THEN NULLIF(c.source_id, 0) END AS import_id,
              ${STATUS} AS status, c.claimed_by, c.claimed_at, c.cancelled_at, c.cancel_reason
         FROM codes c
        WHERE c.source_id = $3 AND c.list_id = $1
          AND ($4::text IS NULL OR ${STATUS} = $4)
          AND ($5::text IS NULL OR c.code > $5::text COLLATE "C")
        ORDER BY c.code
        LIMIT $6`,
      [search.listId, search.listType, source, search.status, from, search.limit - rows.length],
    );
    rows.push(...page);
    if (rows.length >= search.limit) break;
  }
  return rows;
}

export interface CodeDetailRow {
  code: string;
  normalized: string;
  list_id: string;
  list_type: string;
  source_id: string;
  status: CodeStatus;
  claimed_by: string | null;
  claimed_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  live_claims: number;
  source: CodeSourceRow | null;
}

// One statement (named, so planned once per connection): the code, its batch or import, and
// the number of live claims on it.
const FIND_CODE = {
  name: 'find_code',
  text: `SELECT COALESCE(c.display, c.code) AS code, c.code AS normalized, c.list_id, l.type AS list_type, c.source_id,
                ${STATUS} AS status, c.claimed_by, c.claimed_at, c.cancelled_at, c.cancel_reason,
                (SELECT count(*) FROM claims WHERE code = c.code AND reversed_at IS NULL)::int AS live_claims,
                (SELECT json_build_object('type', s.type, 'id', s.id::text, 'name', s.name, 'status', s.status,
                                          'created_by', s.created_by, 'created_at', s.created_at,
                                          'completed_at', s.completed_at)
                   FROM (SELECT 'batch' AS type, id, name, status, created_by, created_at, completed_at
                           FROM batches WHERE id = c.source_id
                         UNION ALL
                         SELECT 'import', id, name, status, created_by, created_at, completed_at
                           FROM imports WHERE id = c.source_id) s
                ) AS source
           FROM codes c JOIN lists l ON l.id = c.list_id
          WHERE c.code = $1`,
};

/** One code by its normalized value, with its source and the number of live claims on it. */
export async function findCode(db: Queryable, normalized: string): Promise<CodeDetailRow | undefined> {
  const { rows } = await db.query<CodeDetailRow>({ ...FIND_CODE, values: [normalized] });
  return rows[0];
}

/**
 * Cancels an unclaimed code. The list's counter row is locked before the code row, in the
 * order a claim takes them, so a cancel racing a claim cannot deadlock with it.
 */
export async function cancelCode(db: Queryable, listId: string, normalized: string, reason: string): Promise<boolean> {
  await lockCancelCounter(db, listId);
  const { rowCount } = await db.query(
    `UPDATE codes SET cancelled_at = now(), cancel_reason = $2
      WHERE code = $1 AND claimed_by IS NULL AND cancelled_at IS NULL`,
    [normalized, reason],
  );
  if (rowCount) await countCancel(db, listId);
  return rowCount === 1;
}

export interface CodeSourceRow {
  type: 'batch' | 'import';
  id: string;
  name: string | null;
  status: string;
  created_by: string | null;
  created_at: Date | string;
  completed_at: Date | string | null;
}
