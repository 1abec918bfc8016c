import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { IdParams, Page, PageQuery, errorResponses, pageSize } from '../http/schemas';
import { CreateOperatorBody, CreatedOperator, Operator, UpdateOperatorBody, UpdatedOperator } from './operators.schema';
import * as service from './operators.service';

const tags = ['Operators'];

export const operatorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/operators',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'createOperator',
        tags,
        summary: 'Create a dashboard operator; their one-time password is returned once',
        description:
          'The operator signs in with this password and must choose their own before doing anything else. ' +
          'An email already in use (in any case) is `409 email_taken`.',
        body: CreateOperatorBody,
        response: { 201: CreatedOperator, ...errorResponses('email_taken') },
      },
    },
    async (request, reply) => {
      const created = await transaction(app.pool, (tx) =>
        service.createOperator(tx, auditContext(request), request.body),
      );
      reply.status(201);
      return created;
    },
  );

  app.get(
    '/v1/operators',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'listOperators',
        tags,
        summary: 'List operators (never their passwords)',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Operator) },
      },
    },
    async (request) =>
      service.listOperators(app.pool, { limit: pageSize(request.query), cursor: request.query.cursor }),
  );

  app.patch(
    '/v1/operators/:id',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'updateOperator',
        tags,
        summary: 'Rename, change the role of, disable or enable an operator, or reset their password',
        description:
          "`disabled: true` and `reset_password: true` end the operator's sessions; a reset returns the new one-time " +
          '`password` in this response only. Admins cannot disable themselves or change their own role ' +
          '(`409 cannot_change_own_access`).',
        params: IdParams,
        body: UpdateOperatorBody,
        response: {
          200: UpdatedOperator,
          ...errorResponses('operator_not_found', 'email_taken', 'cannot_change_own_access'),
        },
      },
    },
    async (request) =>
      transaction(app.pool, (tx) => service.updateOperator(tx, auditContext(request), request.params.id, request.body)),
  );
};
