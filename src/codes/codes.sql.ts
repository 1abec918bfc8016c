import type { Queryable } from '../db/pool';

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

const STATUS = `CASE WHEN c.cancelled_at IS NOT NULL THEN 'cancelled' WHEN c.claimed_at IS NOT NULL THEN 'claimed' ELSE 'available' END`;

export interface CodeSearch {
  listId: string;
  listType: string;
  sourceId: string | null;
  status: CodeStatus | null;
  after: [string, string] | null;
  limit: number;
}

/** A list's codes in (source, code) order, the order of the codes_by_source index. */
export async function searchCodes(db: Queryable, search: CodeSearch): Promise<CodeRow[]> {
  const { rows } = await db.query<CodeRow>(
    `SELECT COALESCE(c.display, c.code) AS code, c.code AS normalized, c.list_id, c.source_id,
            CASE WHEN $2 = 'single_use' THEN NULLIF(c.source_id, 0) END AS batch_id,
            CASE WHEN $2 = 'third_party' THEN NULLIF(c.source_id, 0) END AS import_id,
            ${STATUS} AS status, c.claimed_by, c.claimed_at, c.cancelled_at, c.cancel_reason
       FROM codes c
      WHERE c.list_id = $1
        AND ($3::bigint IS NULL OR c.source_id = $3)
        AND ($4::text IS NULL OR ${STATUS} = $4)
        AND ($5::bigint IS NULL OR (c.source_id, c.code) > ($5::bigint, $6::text COLLATE "C"))
      ORDER BY c.source_id, c.code
      LIMIT $7`,
    [search.listId, search.listType, search.sourceId, search.status, search.after?.[0] ?? null, search.after?.[1] ?? null, search.limit],
  );
  return rows;
}
