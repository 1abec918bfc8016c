import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { transaction } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { errorResponses } from '../http/schemas';
import {
  BlockCustomerBody,
  CustomerParams,
  CustomerProfile,
  UnblockCustomerBody,
  UpsertCustomerBody,
} from './customers.schema';
import * as service from './customers.service';

const tags = ['Customers'];
const notFound = errorResponses('customer_not_found');

// Every body here is optional: a request with none is validated as `{}`.
async function bodyOptional(request: FastifyRequest) {
  request.body ??= {};
}

export const customerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put(
    '/v1/customers/:id',
    {
      config: { access: 'client' },
      schema: {
        operationId: 'upsertCustomer',
        tags,
        summary: 'Register a customer, or update the fields given',
        description:
          'Answers 201 when the customer is new, 200 when it existed. Changes by admin and agent keys are audited.',
        params: CustomerParams,
        body: UpsertCustomerBody,
        response: { 200: CustomerProfile, 201: CustomerProfile },
      },
      preValidation: bodyOptional,
    },
    async (request, reply) => {
      const audit = request.principal?.role === 'client' ? null : auditContext(request);
      const { created, profile } = await transaction(app.pool, (tx) =>
        service.upsertCustomer(tx, audit, request.params.id, request.body),
      );
      reply.status(created ? 201 : 200);
      return profile;
    },
  );

  app.get(
    '/v1/customers/:id',
    {
      config: { access: 'client' },
      schema: {
        operationId: 'getCustomer',
        tags,
        summary: "A customer's profile: balances, issued offers, tags, block and lockout state",
        params: CustomerParams,
        response: { 200: CustomerProfile, ...notFound },
      },
    },
    async (request) => service.getProfile(app.pool, request.params.id),
  );

  app.post(
    '/v1/customers/:id/block',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'blockCustomer',
        tags,
        summary: 'Stop a customer from claiming (idempotent: a second block keeps the first)',
        params: CustomerParams,
        body: BlockCustomerBody,
        response: { 200: CustomerProfile, ...notFound },
      },
      preValidation: bodyOptional,
    },
    async (request) =>
      transaction(app.pool, (tx) => service.blockCustomer(tx, auditContext(request), request.params.id, request.body)),
  );

  app.post(
    '/v1/customers/:id/unblock',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'unblockCustomer',
        tags,
        summary: 'Let a blocked customer claim again (idempotent)',
        params: CustomerParams,
        body: UnblockCustomerBody,
        response: { 200: CustomerProfile, ...notFound },
      },
      preValidation: bodyOptional,
    },
    async (request) =>
      transaction(app.pool, (tx) => service.unblockCustomer(tx, auditContext(request), request.params.id)),
  );

  app.post(
    '/v1/customers/:id/lockout/clear',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'clearCustomerLockout',
        tags,
        summary: 'End a lockout for too many unknown codes, and restart the count (idempotent)',
        params: CustomerParams,
        body: UnblockCustomerBody,
        response: { 200: CustomerProfile, ...notFound },
      },
      preValidation: bodyOptional,
    },
    async (request) =>
      transaction(app.pool, (tx) => service.clearLockout(tx, auditContext(request), request.params.id)),
  );
};
