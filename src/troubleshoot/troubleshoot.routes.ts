import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TroubleshootQuery, TroubleshootReport } from './troubleshoot.schema';
import { troubleshoot } from './troubleshoot.service';

export const troubleshootRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/troubleshoot',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'troubleshoot',
        tags: ['Troubleshoot'],
        summary:
          'One report on a code and/or a customer: what a claim would answer now and why, ' +
          'and what happened, as a timeline',
        querystring: TroubleshootQuery,
        response: { 200: TroubleshootReport },
      },
    },
    async (request) => troubleshoot(app.pool, app.config, request.query),
  );
};
