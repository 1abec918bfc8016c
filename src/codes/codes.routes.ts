import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, IdParams, Nullable, NullableTimestamp, Page, PageQuery, commonErrors } from '../http/schemas';
import { getList } from '../lists/lists.service';
import { listCodes } from './codes.service';
import { ExportQuery, attachment, exportCodes } from './exports';

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
  }, async (request) => listCodes(app.pool, request.params.id, request.query));

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
