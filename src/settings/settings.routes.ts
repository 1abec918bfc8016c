import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { transaction } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { getClaimLimits, setClaimLimits } from './settings.service';
import { ClaimLimits, ClaimLimitsBody } from './settings.schema';

const tags = ['Settings'];
export const settingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/settings/claim-limits',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'getClaimLimits',
        tags,
        summary: 'Claims allowed per customer per rolling week, month and year',
        response: { 200: ClaimLimits },
      },
    },
    async () => getClaimLimits(app.pool),
  );

  app.put(
    '/v1/settings/claim-limits',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'setClaimLimits',
        tags,
        summary: 'Set the claims allowed per customer per rolling week (7 days), month and year',
        description: 'Reversed claims do not count. Applies to the next claim on every node.',
        body: ClaimLimitsBody,
        response: { 200: ClaimLimits },
      },
    },
    async (request) => transaction(app.pool, (tx) => setClaimLimits(tx, auditContext(request), request.body)),
  );
};
