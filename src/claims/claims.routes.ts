import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, onRequestHookHandler } from 'fastify';
import { ambientTransaction, transactionRetryingDeadlocks } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { actorOf } from '../auth/roles';
import { CustomerParams } from '../customers/customers.schema';
import { IdParams, Page, errorResponses } from '../http/schemas';
import {
  Attempt,
  AttemptsQuery,
  CLAIM_REFUSALS,
  ClaimBody,
  ClaimRecord,
  ClaimResponse,
  CustomerClaimsQuery,
  ReasonBody,
  ValidateResponse,
} from './claims.schema';
import type { StoredResponse } from '../http/idempotency';
import { rateLimiter, registerRateLimits } from '../http/rate-limit';
import * as service from './claims.service';

const tags = ['Claims'];
const refusals = errorResponses(...CLAIM_REFUSALS);

/** A response as the handler's answer (returned, not sent: a keyed write stores it first). */
function answer(reply: FastifyReply, response: StoredResponse) {
  if (response.headers) reply.headers(response.headers);
  reply.status(response.status);
  return response.body as never;
}

export const claimRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const rules = service.lockoutRules(app.config);
  const batched: service.ClaimRunner = (kind, code, customerId) => app.claimBatcher.run(kind, code, customerId);
  // A keyed claim or validation runs in its key's transaction (http/idempotency.ts), so that the
  // attempt, the claim and the stored answer commit together; the others go through the batcher.
  const runner = (): service.ClaimRunner => {
    const tx = ambientTransaction();
    return tx ? service.inTransaction(tx, rules) : batched;
  };

  // Claim routes are limited per API key and per client IP, each to RATE_LIMIT_PER_MINUTE.
  // The check runs right after authentication, before the body is validated, so floods of
  // bad requests count too. Counts are per process: with N API nodes the limit is N×.
  const limiters: onRequestHookHandler[] = [];
  if (app.config.rateLimitPerMinute > 0) {
    await registerRateLimits(app);
    const max = app.config.rateLimitPerMinute;
    limiters.push(
      rateLimiter(
        app,
        [
          {
            name: 'claims_per_key',
            max,
            key: (request) => `key:${request.principal ? actorOf(request.principal) : 'none'}`,
          },
          { name: 'claims_per_ip', max, key: (request) => `ip:${request.ip}` },
        ],
        (retry, most) => `too many requests: at most ${most} per minute; retry in ${retry} s`,
      ),
    );
  }

  app.post(
    '/v1/claims',
    {
      config: {
        access: 'client',
        rateLimited: limiters.length > 0,
        uncertainWrite: { what: 'the claim', check: 'GET /v1/customers/{customer_id}/claims' },
      },
      schema: {
        operationId: 'claimCode',
        tags,
        summary: 'Claim a code for a customer: the code is redeemed and its whole outcome issued, or nothing happens',
        description:
          'Checks run in the order of docs/product.md; the first failure is the answer. ' +
          'Send an `Idempotency-Key` header to make retries safe: ' +
          'the same key with the same body within 24 hours replays the first response.',
        body: ClaimBody,
        response: { 201: ClaimResponse, ...refusals },
      },
      onRequest: limiters,
    },
    async (request, reply) => answer(reply, await service.claim(runner(), request.body)),
  );

  app.post(
    '/v1/claims/validate',
    {
      config: { access: 'client', rateLimited: limiters.length > 0 },
      schema: {
        operationId: 'validateClaim',
        tags,
        summary: 'What a claim would do now, without claiming: the outcome, or the error a claim would get',
        description: 'Recorded as an attempt; unknown codes count towards the lockout, as they do for claims.',
        body: ClaimBody,
        response: { 200: ValidateResponse, ...refusals },
      },
      onRequest: limiters,
    },
    async (request, reply) => answer(reply, await service.validate(runner(), request.body)),
  );

  app.get(
    '/v1/claims/:id',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getClaim',
        tags,
        summary: 'One claim, with its outcome and reversal',
        params: IdParams,
        response: { 200: ClaimRecord, ...errorResponses('claim_not_found') },
      },
    },
    async (request) => service.getClaim(app.pool, request.params.id),
  );

  app.post(
    '/v1/claims/:id/reversal',
    {
      config: { access: 'agent', uncertainWrite: { what: 'the reversal', check: 'GET /v1/claims/{id}' } },
      schema: {
        operationId: 'reverseClaim',
        tags,
        summary:
          'Reverse a claim: debit its points, revoke its offers, remove the tags it added, ' +
          'free the code or give the use back',
        description: 'A second reversal answers 409 claim_already_reversed. Accepts an `Idempotency-Key` header.',
        params: IdParams,
        body: ReasonBody,
        response: { 200: ClaimRecord, ...errorResponses('claim_not_found', 'claim_already_reversed') },
      },
    },
    async (request) =>
      transactionRetryingDeadlocks(app.pool, (tx) =>
        service.reverseClaim(tx, auditContext(request), request.params.id, request.body.reason),
      ),
  );

  app.get(
    '/v1/customers/:id/claims',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listCustomerClaims',
        tags,
        summary: 'The claims of a customer, newest first (reversed ones included)',
        params: CustomerParams,
        querystring: CustomerClaimsQuery,
        response: { 200: Page(ClaimRecord), ...errorResponses('customer_not_found') },
      },
    },
    async (request) => service.customerClaims(app.pool, request.params.id, request.query),
  );

  app.get(
    '/v1/customers/:id/attempts',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listCustomerAttempts',
        tags,
        summary: "A customer's claim and validate attempts, newest first; `result=failed` for the failed ones",
        params: CustomerParams,
        querystring: AttemptsQuery,
        response: { 200: Page(Attempt), ...errorResponses('customer_not_found') },
      },
    },
    async (request) => service.customerAttempts(app.pool, request.params.id, request.query),
  );
};
