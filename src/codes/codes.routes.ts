import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { invalid } from '../http/errors';
import { decodeCursor, encodeCursor } from '../http/pagination';
import { ErrorResponse, IdParams, Nullable, NullableTimestamp, Page, PageQuery, commonErrors } from '../http/schemas';
import { getList } from '../lists/lists.service';
import { ExportQuery, attachment } from './batches.routes';
import { searchCodes, sourcesOf } from './codes.sql';
import { exportCodes } from './exports';

const tags = ['Codes'];
const errors = { 404: Type.Ref(ErrorResponse), ...commonErrors };
const Id = Type.String({ pattern: '^[1-9][0-9]{0,17}$' });

export const CodeStatus = Type.Union([Type.Literal('available'), Type.Literal('claimed'), Type.Literal('cancelled')]);

export const CodeItem = Type.Object({
  code: Type.String(),
  list_id: Type.String(),
  batch_id: Nullable(Type.String()),
  import_id: Nullable(Type.String()),
  status: CodeStatus,
  claimed_by: Nullable(Type.String()),
  claimed_at: NullableTimestamp,
  cancelled_at: NullableTimestamp,
  cancel_reason: Nullable(Type.String()),
});

export const codeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/lists/:id/codes', {
    config: { access: 'agent' },
    schema: {
      tags,
      summary: "A list's codes, by batch or import, in code order",
      params: IdParams,
      querystring: Type.Object(
        { status: Type.Optional(CodeStatus), batch_id: Type.Optional(Id), import_id: Type.Optional(Id), ...PageQuery },
        { additionalProperties: false },
      ),
      response: { 200: Page(CodeItem), ...errors },
    },
  }, async (request) => {
    const { status, batch_id, import_id, cursor } = request.query;
    const limit = request.query.limit ?? 100;
    if (batch_id && import_id) throw invalid([{ path: 'querystring', message: 'give batch_id or import_id, not both' }]);
    const list = await getList(app.pool, request.params.id);
    // Batches and imports share one id sequence and one column: without this, import_id=<a batch>
    // would list that batch's codes, each showing import_id null.
    if ((batch_id && list.type !== 'single_use') || (import_id && list.type !== 'third_party')) return { items: [], next_cursor: null };
    const sourceId = batch_id ?? import_id ?? null;
    const after = decodeCursor(cursor, ['text', 'text']) as [string, string] | null;
    if (after && !/^\d{1,18}$/.test(after[0])) throw invalid([{ path: 'querystring.cursor', message: 'is not a cursor this collection gave out' }]);
    const sources = sourceId ? [sourceId] : await sourcesOf(app.pool, list.id, list.type);
    const rows = await searchCodes(app.pool, { listId: list.id, listType: list.type, sources, status: status ?? null, after, limit: limit + 1 });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(({ source_id: _source, normalized: _normalized, ...code }) => code),
      next_cursor: rows.length > limit && last ? encodeCursor([last.source_id, last.normalized]) : null,
    };
  });

  app.get('/v1/lists/:id/export', {
    config: { access: 'admin' },
    schema: {
      tags,
      summary: "Download all of a list's codes as .csv or .xlsx (streamed)",
      params: IdParams,
      querystring: ExportQuery,
      response: { 200: { description: 'the file', type: 'string' }, ...errors },
    },
  }, async (request, reply) => {
    const list = await getList(app.pool, request.params.id);
    const format = request.query.format ?? 'csv';
    const label = list.type === 'single_use' ? 'batch' : list.type === 'third_party' ? 'import' : 'source';
    const stream = await exportCodes(app.pool, { listId: list.id, sourceId: null, sourceLabel: label }, format);
    attachment(reply, `list-${list.id}`, format);
    return reply.send(stream);
  });
};
