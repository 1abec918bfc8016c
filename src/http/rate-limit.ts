// Rate limits on chosen routes, through @fastify/rate-limit's counters (in memory, per API
// process). A route may be under several limits at once (per API key and per client IP); each
// answer says where the tightest one stands in the headers the plugin's draft-spec mode
// emits, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds), and a
// request over any limit is `429 rate_limited` with `Retry-After`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { DomainError } from './errors';
import { metrics } from '../ops/metrics';

export interface LimitRule {
  /** Names the limit in the `rate_limited_requests_total` metric. */
  name: string;
  max: number;
  /** The counter a request counts on, e.g. its API key or client address. */
  key: (request: FastifyRequest) => string;
}

const RATE_LIMIT_WINDOW_MS = 60_000;

/** Registers the plugin's counters in this scope; call once per plugin before `rateLimiter`. */
export async function registerRateLimits(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false, timeWindow: RATE_LIMIT_WINDOW_MS });
}

/** A hook that counts a request on each rule, sets the RateLimit-* headers, and refuses it over any. */
export function rateLimiter(
  app: FastifyInstance,
  rules: LimitRule[],
  refusal: (retryInSeconds: number, max: number) => string,
) {
  const checks = rules.map((rule) => ({ rule, check: app.createRateLimit({ max: rule.max, keyGenerator: rule.key }) }));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let tightest: { max: number; remaining: number; ttlInSeconds: number } | null = null;
    for (const { rule, check } of checks) {
      const limit = await check(request);
      if (limit.isAllowed) continue;
      const headers = {
        'ratelimit-limit': String(limit.max),
        'ratelimit-remaining': String(limit.remaining),
        'ratelimit-reset': String(limit.ttlInSeconds),
      };
      if (limit.isExceeded) {
        metrics.rateLimited.inc({ limit: rule.name });
        throw new DomainError('rate_limited', refusal(limit.ttlInSeconds, limit.max), undefined, {
          ...headers,
          'retry-after': String(limit.ttlInSeconds),
        });
      }
      if (!tightest || limit.remaining < tightest.remaining) tightest = limit;
    }
    if (tightest) {
      reply.header('ratelimit-limit', tightest.max);
      reply.header('ratelimit-remaining', tightest.remaining);
      reply.header('ratelimit-reset', tightest.ttlInSeconds);
    }
  };
}
