import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { conflict } from '../http/errors';
import { IdParams, Page, PageQuery, errorResponses } from '../http/schemas';
import { Batch, CreateBatchBody } from './batches.schema';
import * as service from './batches.service';
import { getList } from '../lists/lists.service';
import { ExportFile, ExportQuery, attachment, exportCodes, today } from './exports';

const tags = ['Batches'];
export const batchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/lists/:id/batches',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createBatch',
        tags,
        summary: 'Generate single-use codes in a background batch',
        description: 'Answers 202 with the batch `pending`; poll GET /v1/batches/{id} until `active` (or `failed`).',
        params: IdParams,
        body: CreateBatchBody,
        response: {
          202: Batch,
          ...errorResponses('list_not_found', 'wrong_list_type', 'list_completed', 'code_space_too_small'),
        },
      },
    },
    async (request, reply) => {
      const batch = await transaction(app.pool, (tx) =>
        service.createBatch(tx, auditContext(request), request.params.id, request.body, app.config.maxCodesPerRequest),
      );
      reply.status(202);
      return batch;
    },
  );

  app.get(
    '/v1/lists/:id/batches',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listBatches',
        tags,
        summary: "A list's batch log, newest first",
        params: IdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Batch), ...errorResponses('list_not_found') },
      },
    },
    async (request) => service.listBatches(app.pool, request.params.id, request.query),
  );

  app.get(
    '/v1/batches/:id',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getBatch',
        tags,
        summary: 'A batch with its progress',
        params: IdParams,
        response: { 200: Batch, ...errorResponses('batch_not_found') },
      },
    },
    async (request) => service.getBatch(app.pool, request.params.id),
  );

  app.get(
    '/v1/batches/:id/export',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'exportBatch',
        tags,
        summary: "Download a batch's codes as .csv or .xlsx (streamed)",
        params: IdParams,
        querystring: ExportQuery,
        response: { 200: ExportFile, ...errorResponses('batch_not_found', 'batch_not_ready') },
      },
    },
    async (request, reply) => {
      const batch = await service.getBatch(app.pool, request.params.id);
      if (batch.status !== 'active') {
        throw conflict('batch_not_ready', `the batch is ${batch.status}; it can be exported once active`);
      }
      const format = request.query.format ?? 'csv';
      const list = await getList(app.pool, batch.list_id);
      attachment(reply, [list.name, `batch-${batch.name ?? batch.id}`, today()], format);
      const stream = await exportCodes(
        app.pool,
        { listId: batch.list_id, sourceId: batch.id, sourceLabel: 'batch' },
        format,
      );
      return reply.send(stream);
    },
  );
};
