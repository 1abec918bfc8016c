import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction } from '../db/pool';
import { IdParams, Page, PageQuery, errorResponses, pageSize } from '../http/schemas';
import { auditContext } from '../auth/auth.plugin';
import { webhookKey } from './secrets';
import * as deliveries from './deliveries.service';
import {
  CreateWebhookEndpointBody,
  CreatedWebhookEndpoint,
  DeliveryParams,
  UpdateWebhookEndpointBody,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookTestResult,
} from './webhooks.schema';
import * as service from './webhooks.service';

const tags = ['Webhooks'];

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // At start, so that a DATA_DIR where the key cannot be kept stops the process there.
  const settings: service.WebhookSettings = {
    key: await webhookKey(app.config),
    allowPrivate: app.config.webhookAllowPrivate,
  };
  // A replayed answer gets its secret derived again rather than kept with the stored answer.
  const derivedSecret = {
    omit: (body: unknown) => {
      const { secret: _secret, ...rest } = body as { secret?: string };
      return rest;
    },
    restore: (body: unknown) => service.withSecret(settings.key, body as ReturnType<typeof service.presentEndpoint>),
  };
  const notFound = errorResponses('webhook_endpoint_not_found');

  app.post(
    '/v1/webhook-endpoints',
    {
      config: { access: 'admin', derivedSecret },
      schema: {
        operationId: 'createWebhookEndpoint',
        tags,
        summary: 'Add a webhook endpoint; its signing secret is returned once',
        body: CreateWebhookEndpointBody,
        response: { 201: CreatedWebhookEndpoint, ...errorResponses('webhook_url_not_allowed') },
      },
    },
    async (request, reply) => {
      const endpoint = await transaction(app.pool, (tx) =>
        service.createEndpoint(tx, auditContext(request), settings, request.body),
      );
      reply.status(201);
      return endpoint;
    },
  );

  app.get(
    '/v1/webhook-endpoints',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'listWebhookEndpoints',
        tags,
        summary: 'List webhook endpoints (never their secrets)',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(WebhookEndpoint) },
      },
    },
    async (request) =>
      service.listEndpoints(app.pool, { limit: pageSize(request.query), cursor: request.query.cursor }),
  );

  app.get(
    '/v1/webhook-endpoints/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'getWebhookEndpoint',
        tags,
        summary: 'One webhook endpoint (never its secret)',
        params: IdParams,
        response: { 200: WebhookEndpoint, ...notFound },
      },
    },
    async (request) => service.getEndpoint(app.pool, request.params.id),
  );

  app.patch(
    '/v1/webhook-endpoints/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'updateWebhookEndpoint',
        tags,
        summary: 'Edit a webhook endpoint: URL, event types, description, enabled',
        params: IdParams,
        body: UpdateWebhookEndpointBody,
        response: { 200: WebhookEndpoint, ...errorResponses('webhook_endpoint_not_found', 'webhook_url_not_allowed') },
      },
    },
    async (request) =>
      transaction(app.pool, (tx) =>
        service.updateEndpoint(tx, auditContext(request), settings, request.params.id, request.body),
      ),
  );

  app.delete(
    '/v1/webhook-endpoints/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'deleteWebhookEndpoint',
        tags,
        summary: 'Delete a webhook endpoint; answers it as it was',
        params: IdParams,
        response: { 200: WebhookEndpoint, ...notFound },
      },
    },
    async (request) =>
      transaction(app.pool, (tx) => service.deleteEndpoint(tx, auditContext(request), request.params.id)),
  );

  app.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      config: { access: 'admin', derivedSecret },
      schema: {
        operationId: 'rotateWebhookEndpointSecret',
        tags,
        summary: 'Make a new signing secret, returned once; the previous one keeps signing for 24 hours',
        params: IdParams,
        response: { 200: CreatedWebhookEndpoint, ...notFound },
      },
    },
    async (request) =>
      transaction(app.pool, (tx) => service.rotateSecret(tx, auditContext(request), settings.key, request.params.id)),
  );

  app.get(
    '/v1/webhook-endpoints/:id/deliveries',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags,
        summary: "An endpoint's deliveries, newest first: attempts and the last one's outcome",
        params: IdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(WebhookDelivery), ...notFound },
      },
    },
    async (request) =>
      deliveries.listDeliveries(app.pool, request.params.id, {
        limit: pageSize(request.query),
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/v1/webhook-endpoints/:id/deliveries/:delivery_id/retry',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'retryWebhookDelivery',
        tags,
        summary: "Send a delivery's event again now, outside the order; the attempt is recorded",
        params: DeliveryParams,
        response: {
          200: WebhookDelivery,
          ...errorResponses('webhook_endpoint_not_found', 'webhook_delivery_not_found', 'webhook_url_not_allowed'),
        },
      },
    },
    async (request) =>
      deliveries.retryDelivery(
        app.pool,
        auditContext(request),
        settings,
        request.params.id,
        request.params.delivery_id,
      ),
  );

  app.post(
    '/v1/webhook-endpoints/:id/test',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'testWebhookEndpoint',
        tags,
        summary: "Send a signed webhook.test message; answers the receiver's status and latency",
        params: IdParams,
        response: {
          200: WebhookTestResult,
          ...errorResponses('webhook_endpoint_not_found', 'webhook_url_not_allowed'),
        },
      },
    },
    async (request) => deliveries.testEndpoint(app.pool, settings, request.params.id),
  );
};
