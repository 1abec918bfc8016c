import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Nullable, Page, PageQuery, Timestamp, pageSize } from '../http/schemas';
import { listAudit } from './audit.service';

const AuditEvent = Type.Object(
  {
    id: Type.String(),
    actor: Type.String({ description: 'api_key:<id> or operator:<id>' }),
    action: Type.String({ description: 'e.g. list.create, api_key.revoke' }),
    entity_type: Type.String(),
    entity_id: Type.String(),
    before: Nullable(
      Type.Object(
        {},
        { additionalProperties: true, description: 'the entity before the change; null when it was created' },
      ),
    ),
    after: Nullable(Type.Object({}, { additionalProperties: true, description: 'the entity after the change' })),
    request_id: Nullable(Type.String()),
    created_at: Timestamp,
  },
  { $id: 'AuditEvent' },
);

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/audit',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'listAuditEntries',
        tags: ['Audit'],
        summary: 'Audit log of admin and agent changes, newest first',
        querystring: Type.Object(
          {
            entity_type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            entity_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
            actor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(AuditEvent) },
      },
    },
    async (request) => listAudit(app.pool, { ...request.query, limit: pageSize(request.query) }),
  );
};
