import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction, transactionRetryingDeadlocks } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { IdParams, Page, errorResponses } from '../http/schemas';
import { CreateListBody, List, ListQuery, UpdateListBody } from './lists.schema';
import * as service from './lists.service';

const tags = ['Lists'];

export const listRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/lists',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createList',
        tags,
        summary: 'Create a promo code list',
        description:
          'A multi_use list takes its one `code` here; ' +
          'single_use lists get codes from batches, third_party lists from imports.',
        body: CreateListBody,
        response: { 201: List, ...errorResponses('code_taken') },
      },
    },
    async (request, reply) => {
      const list = await transaction(app.pool, (tx) => service.createList(tx, auditContext(request), request.body));
      reply.status(201);
      return list;
    },
  );

  app.get(
    '/v1/lists',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listLists',
        tags,
        summary: 'Search lists by name, filter by type and status, sort by any column',
        description: 'Default order: newest first. With `sort`, ascending unless `order=desc`.',
        querystring: ListQuery,
        response: { 200: Page(List) },
      },
    },
    async (request) => service.searchLists(app.pool, request.query),
  );

  app.get(
    '/v1/lists/:id',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getList',
        tags,
        summary: 'Get a list with its status and metrics',
        params: IdParams,
        response: { 200: List, ...errorResponses('list_not_found') },
      },
    },
    async (request) => service.getList(app.pool, request.params.id),
  );

  app.patch(
    '/v1/lists/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'updateList',
        tags,
        summary: 'Edit a list: name, description, ends_at, redemption_cap',
        params: IdParams,
        body: UpdateListBody,
        response: {
          200: List,
          ...errorResponses('list_not_found', 'field_not_editable', 'redemption_cap_below_claim_count'),
        },
      },
    },
    async (request) =>
      // A cap edit locks the list's row and all its counter rows, which batches of claims also
      // take (docs/architecture.md, "Claims in batches").
      transactionRetryingDeadlocks(app.pool, (tx) =>
        service.updateList(tx, auditContext(request), request.params.id, request.body),
      ),
  );
};
