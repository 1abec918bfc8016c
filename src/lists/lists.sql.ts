import type { Queryable } from '../db/pool';
import type { ListSort, OutcomeInput } from './lists.schema';
import { counterTotals, createCounters, lockCounters, spreadCap } from './counters';

export interface ListRow {
  id: string;
  name: string;
  description: string | null;
  type: 'single_use' | 'multi_use' | 'third_party';
  starts_at: Date;
  ends_at: Date | null;
  redemption_cap: number | null;
  outcome: OutcomeInput;
  code: string | null;
  status: 'pending' | 'active' | 'completed';
  completed_reason: 'ended' | 'cap_reached' | null;
  claim_count: number;
  code_count: number;
  available_count: number;
  cancelled_count: number;
  entry_cap: number | null;
  created_at: Date;
  updated_at: Date;
}

// A list as clients see it. Status is derived from the clock and the counters at read time,
// so it is never stale: pending before starts_at, completed once ended or capped.
const LIST_VIEW = `
  SELECT l.id, l.name, l.description, l.type, l.starts_at, l.ends_at, l.redemption_cap, l.outcome,
         l.code_display AS code, l.created_at, l.updated_at,
         s.status, s.status_rank,
         CASE s.status WHEN 'completed' THEN CASE WHEN l.ends_at <= now() THEN 'ended' ELSE 'cap_reached' END END
           AS completed_reason,
         c.claims AS claim_count, c.codes AS code_count, c.cancelled AS cancelled_count,
         CASE l.type WHEN 'multi_use' THEN c.codes - c.cancelled ELSE c.codes - c.claims - c.cancelled END
           AS available_count,
         CASE l.type WHEN 'multi_use' THEN l.redemption_cap ELSE 1 END AS entry_cap
    FROM lists l
   CROSS JOIN LATERAL (${counterTotals('l')}) c
   CROSS JOIN LATERAL (
         SELECT CASE
                  WHEN now() < l.starts_at THEN 'pending'
                  WHEN l.ends_at <= now() OR c.claims >= l.redemption_cap THEN 'completed'
                  ELSE 'active'
                END AS status) s0
   CROSS JOIN LATERAL (
         SELECT s0.status, CASE s0.status WHEN 'pending' THEN 0 WHEN 'active' THEN 1 ELSE 2 END AS status_rank) s`;

const VIEW_COLUMNS = `id, name, description, type, starts_at, ends_at, redemption_cap, outcome, code, status,
  completed_reason, claim_count, code_count, available_count, cancelled_count, entry_cap, created_at, updated_at`;

/** Each sort column as a non-null expression over the view, and the SQL type of its cursor. */
const SORTS: Record<ListSort, { expr: string; type: string }> = {
  name: { expr: 'name', type: 'text' },
  type: { expr: 'type', type: 'text' },
  status: { expr: 'status_rank', type: 'integer' },
  starts_at: { expr: 'starts_at', type: 'timestamptz' },
  ends_at: { expr: "COALESCE(ends_at, 'infinity')", type: 'timestamptz' },
  claim_count: { expr: 'claim_count', type: 'float8' },
  code_count: { expr: 'code_count', type: 'float8' },
  entry_cap: { expr: 'COALESCE(entry_cap, 2147483647)', type: 'integer' },
  created_at: { expr: 'created_at', type: 'timestamptz' },
};

// Named, so that each connection plans it once: planning the view costs more than running it.
const FIND_LIST = { name: 'find_list', text: `SELECT ${VIEW_COLUMNS} FROM (${LIST_VIEW} WHERE l.id = $1) v` };

export async function findList(db: Queryable, id: string): Promise<ListRow | undefined> {
  const { rows } = await db.query<ListRow>({ ...FIND_LIST, values: [id] });
  return rows[0];
}

/**
 * Locks the list's row and its counters for an edit; returns its current view. With the
 * counters locked no claim is in flight, so the claim count read here is exact.
 */
export async function lockList(db: Queryable, id: string): Promise<ListRow | undefined> {
  const { rowCount } = await db.query('SELECT 1 FROM lists WHERE id = $1 FOR UPDATE', [id]);
  if (!rowCount) return undefined;
  await lockCounters(db, id);
  return findList(db, id);
}

export interface ListSearch {
  q?: string;
  type?: string;
  status?: string;
  sort: ListSort;
  order: 'asc' | 'desc';
  after: [string, string] | null;
  limit: number;
}

export async function searchLists(db: Queryable, search: ListSearch): Promise<(ListRow & { sort_key: string })[]> {
  const { expr, type } = SORTS[search.sort];
  const direction = search.order === 'asc' ? 'ASC' : 'DESC';
  const comparison = search.order === 'asc' ? '>' : '<';
  const pattern = search.q ? `%${search.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const { rows } = await db.query<ListRow & { sort_key: string }>(
    `SELECT ${VIEW_COLUMNS}, (${expr})::text AS sort_key
       FROM (${LIST_VIEW}) v
      WHERE ($1::text IS NULL OR name ILIKE $1)
        AND ($2::text IS NULL OR type = $2)
        AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR (${expr}, id) ${comparison} ($4::${type}, $5::bigint))
      ORDER BY ${expr} ${direction}, id ${direction}
      LIMIT $6`,
    [
      pattern,
      search.type ?? null,
      search.status ?? null,
      search.after?.[0] ?? null,
      search.after?.[1] ?? null,
      search.limit,
    ],
  );
  return rows;
}

export interface NewList {
  name: string;
  description: string | null;
  type: string;
  startsAt: Date | null;
  endsAt: Date | null;
  redemptionCap: number | null;
  outcome: OutcomeInput;
  codeDisplay: string | null;
}

export async function insertList(db: Queryable, list: NewList): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO lists (name, description, type, starts_at, ends_at, redemption_cap, outcome, code_display)
     VALUES ($1, $2, $3, COALESCE($4::timestamptz, now()), $5, $6, $7, $8) RETURNING id`,
    [
      list.name,
      list.description,
      list.type,
      list.startsAt,
      list.endsAt,
      list.redemptionCap,
      JSON.stringify(list.outcome),
      list.codeDisplay,
    ],
  );
  const id = rows[0]!.id;
  await createCounters(db, id, list.codeDisplay ? 1 : 0);
  if (list.redemptionCap !== null) await spreadCap(db, id);
  return id;
}

/** Inserts the one code of a multi-use list; false when the normalized code is taken. */
export async function insertListCode(db: Queryable, code: string, listId: string, display: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO codes (code, list_id, source_id, display) VALUES ($1, $2, 0, $3) ON CONFLICT (code) DO NOTHING',
    [code, listId, display],
  );
  return rowCount === 1;
}

export async function updateList(
  db: Queryable,
  id: string,
  changes: { name?: string; description?: string | null; ends_at?: Date | null; redemption_cap?: number | null },
): Promise<void> {
  await db.query(
    `UPDATE lists SET
       name = COALESCE($2, name),
       description = CASE WHEN $3 THEN $4 ELSE description END,
       ends_at = CASE WHEN $5 THEN $6::timestamptz ELSE ends_at END,
       redemption_cap = CASE WHEN $7 THEN $8::integer ELSE redemption_cap END,
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      changes.name ?? null,
      'description' in changes,
      changes.description ?? null,
      'ends_at' in changes,
      changes.ends_at ?? null,
      'redemption_cap' in changes,
      changes.redemption_cap ?? null,
    ],
  );
}
