// A list's codes, page by page: source by source (its batches or imports), each in code order.
import type { Queryable } from '../db/pool';
import { invalid } from '../http/errors';
import { decodeCursor, encodeCursor } from '../http/pagination';
import { getList } from '../lists/lists.service';
import { searchCodes, sourcesOf, type CodeStatus } from './codes.sql';
import { pageSize } from '../http/schemas';

export interface CodeQuery {
  status?: CodeStatus;
  batch_id?: string;
  import_id?: string;
  limit?: number;
  cursor?: string;
}

export async function listCodes(db: Queryable, listId: string, query: CodeQuery) {
  const limit = pageSize(query);
  if (query.batch_id && query.import_id)
    throw invalid([{ path: 'querystring', message: 'give batch_id or import_id, not both' }]);
  const list = await getList(db, listId);
  // Batches and imports share one id sequence and one column: without this, import_id=<a batch>
  // would list that batch's codes, each showing import_id null.
  if ((query.batch_id && list.type !== 'single_use') || (query.import_id && list.type !== 'third_party')) {
    return { items: [], next_cursor: null };
  }
  // A cursor is [source id, normalized code]; the source of a multi-use code is 0.
  const after = decodeCursor(query.cursor, ['text', 'text']) as [string, string] | null;
  if (after && !/^\d{1,18}$/.test(after[0]))
    throw invalid([{ path: 'querystring.cursor', message: 'is not a cursor this collection gave out' }]);
  const sourceId = query.batch_id ?? query.import_id;
  const sources = sourceId ? [sourceId] : await sourcesOf(db, list.id, list.type);
  const rows = await searchCodes(db, {
    listId: list.id,
    listType: list.type,
    sources,
    status: query.status ?? null,
    after,
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ source_id: _source, normalized: _normalized, ...code }) => code),
    next_cursor: rows.length > limit && last ? encodeCursor([last.source_id, last.normalized]) : null,
  };
}
