import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction } from '../db/pool';
import { IdParams, Page, PageQuery, errorResponses, pageSize } from '../http/schemas';
import { auditContext } from './auth.plugin';
import { ApiKey, CreateApiKeyBody, CreatedApiKey } from './api-keys.schema';
import * as service from './api-keys.service';

const tags = ['API keys'];

export const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createApiKey',
        tags,
        summary: 'Create an API key; the secret is returned once',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey },
      },
    },
    async (request, reply) => {
      const key = await transaction(app.pool, (tx) => service.createApiKey(tx, auditContext(request), request.body));
      reply.status(201);
      return key;
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'listApiKeys',
        tags,
        summary: 'List API keys (never their secrets)',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(ApiKey) },
      },
    },
    async (request) => service.listApiKeys(app.pool, { limit: pageSize(request.query), cursor: request.query.cursor }),
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'revokeApiKey',
        tags,
        summary: 'Revoke an API key',
        params: IdParams,
        response: { 200: ApiKey, ...errorResponses('api_key_not_found') },
      },
    },
    async (request) =>
      transaction(app.pool, (tx) => service.revokeApiKey(tx, auditContext(request), request.params.id)),
  );
};
