import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, Nullable, NullableTimestamp, Page, PageQuery, Timestamp, errorResponses } from '../http/schemas';
import { getList } from '../lists/lists.service';
import { transactionRetryingDeadlocks } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { ClaimRecord, ReasonBody } from '../claims/claims.schema';
import { listCodes } from './codes.service';
import { cancelCode, lookupCode } from './lookup.service';
import { ExportFile, ExportQuery, attachment, exportCodes, today } from './exports';

const tags = ['Codes'];
const Id = Type.String({ pattern: '^[1-9][0-9]{0,17}$', examples: ['42'] });

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

const CodeParams = Type.Object(
  {
    code: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000]*$',
      description: 'in any form: it is normalized',
      examples: ['SUMK7PXM2QD'],
    }),
  },
  { additionalProperties: false },
);

export const CodeDetail = Type.Object({
  code: Type.String({ description: 'as displayed' }),
  normalized: Type.String(),
  status: CodeStatus,
  list: Type.Object({
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    status: Type.String(),
    completed_reason: Nullable(Type.String()),
    starts_at: Timestamp,
    ends_at: NullableTimestamp,
    redemption_cap: Nullable(Type.Integer()),
    claim_count: Type.Integer(),
  }),
  batch_id: Nullable(Type.String()),
  import_id: Nullable(Type.String()),
  source: Nullable(
    Type.Object({
      type: Type.String(),
      id: Type.String(),
      name: Nullable(Type.String()),
      status: Type.String(),
      created_by: Nullable(Type.String()),
      created_at: Timestamp,
      completed_at: NullableTimestamp,
    }),
  ),
  claimed_by: Nullable(Type.String()),
  claimed_at: NullableTimestamp,
  cancelled_at: NullableTimestamp,
  cancel_reason: Nullable(Type.String()),
  claim_count: Type.Integer({ description: 'live (not reversed) claims on the code' }),
  claims: Type.Array(ClaimRecord, {
    description: 'the latest claims on the code, newest first, reversed ones included',
  }),
});

export const codeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/codes/:code',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getCode',
        tags,
        summary: 'Find a code by its value: its list and status, batch or import, claims and cancellation',
        params: CodeParams,
        response: { 200: CodeDetail, ...errorResponses('code_not_found') },
      },
    },
    async (request) => lookupCode(app.pool, request.params.code),
  );

  app.post(
    '/v1/codes/:code/cancel',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'cancelCode',
        tags,
        summary: 'Cancel an unclaimed single-use or third-party code (idempotent)',
        description: 'A claimed code answers 409 code_already_claimed; a multi-use code 409 code_not_cancellable.',
        params: CodeParams,
        body: ReasonBody,
        response: {
          200: CodeDetail,
          ...errorResponses('code_not_found', 'code_not_cancellable', 'code_already_claimed'),
        },
      },
    },
    async (request) =>
      transactionRetryingDeadlocks(app.pool, (tx) =>
        cancelCode(tx, auditContext(request), request.params.code, request.body.reason),
      ),
  );

  app.get(
    '/v1/lists/:id/codes',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listCodes',
        tags,
        summary: "A list's codes, by batch or import, in code order",
        params: IdParams,
        querystring: Type.Object(
          {
            status: Type.Optional(CodeStatus),
            batch_id: Type.Optional(Id),
            import_id: Type.Optional(Id),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(CodeItem), ...errorResponses('list_not_found') },
      },
    },
    async (request) => listCodes(app.pool, request.params.id, request.query),
  );

  app.get(
    '/v1/lists/:id/export',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'exportList',
        tags,
        summary: "Download all of a list's codes as .csv or .xlsx (streamed)",
        params: IdParams,
        querystring: ExportQuery,
        response: { 200: ExportFile, ...errorResponses('list_not_found') },
      },
    },
    async (request, reply) => {
      const list = await getList(app.pool, request.params.id);
      const format = request.query.format ?? 'csv';
      const label = list.type === 'single_use' ? 'batch' : list.type === 'third_party' ? 'import' : 'source';
      attachment(reply, [list.name, 'all-codes', today()], format);
      const stream = await exportCodes(app.pool, { listId: list.id, sourceId: null, sourceLabel: label }, format);
      return reply.send(stream);
    },
  );
};
