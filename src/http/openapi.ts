// What the OpenAPI document says beyond each route's own schemas: the headers every route
// shares (X-Request-Id; Idempotency-Key and Idempotent-Replayed on writes; Retry-After and
// RateLimit-* where they are sent), the body of a streamed upload, and the error answers the
// framework gives on its own (413, 415, 429). `registerErrorContract` adds the error codes every
// route shares to each route's response schemas, so that its `code` enum is complete.
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { ErrorCode } from './error-codes';
import { statusOf } from './error-codes';
import { isWrite } from './idempotency';
import { ErrorDetails, codesOf, errorSchema } from './schemas';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The request body as documented, for a route that reads its body itself (an upload). */
    documentedBody?: { description?: string; content: Record<string, { schema: Record<string, unknown> }> };
    /** The route is rate limited: its answers carry RateLimit-*, and it may answer 429. */
    rateLimited?: boolean;
  }
}

const header = (description: string, schema: Record<string, unknown>) => ({ description, schema });

/** Reusable headers and parameters, under components. */
const HEADERS = {
  XRequestId: header(
    "the request's id: the caller's X-Request-Id when it is 1–64 letters, digits, `.`, `_` or `-`, else a new UUID",
    {
      type: 'string',
    },
  ),
  IdempotentReplayed: header(
    '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
    {
      type: 'string',
      enum: ['true'],
    },
  ),
  RetryAfter: header('seconds to wait before retrying', { type: 'integer', minimum: 0 }),
  RateLimitLimit: header('requests allowed per window (60 s) by the tightest limit on this route', { type: 'integer' }),
  RateLimitRemaining: header('requests left in the current window', { type: 'integer' }),
  RateLimitReset: header('seconds until the window starts again', { type: 'integer' }),
};

const PARAMETERS = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes the write safe to retry: the same key with the same request within 24 hours ' +
      'answers the first response again (with `Idempotent-Replayed: true`) and changes nothing; ' +
      'with another request it is `422 idempotency_key_reused`. 1–255 printable ASCII characters, e.g. a UUID.',
    schema: { type: 'string', minLength: 1, maxLength: 255, example: '5f0c6a7e-2b7d-4a53-9a43-2d0f1c9e8b11' },
  },
  XRequestId: {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description: 'an id for this request, echoed in the answer and the logs (1–64 letters, digits, `.`, `_` or `-`)',
    schema: { type: 'string', maxLength: 64, example: 'checkout-7f3a' },
  },
};

const ref = (kind: 'headers' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/**
 * @fastify/swagger's `transform` and `transformObject`: the first notes each route's documented
 * body and whether it is rate limited, the second completes the document with what they share.
 */
export function openApiTransforms(): Pick<FastifyDynamicSwaggerOptions, 'transform' | 'transformObject'> {
  const limited = new Set<string>();
  return {
    transform({ schema, url, route }) {
      const documented: FastifySchema & Record<string, unknown> = { ...schema };
      const body = route.config?.documentedBody;
      if (body) documented.body = body;
      const id = (schema as { operationId?: string } | undefined)?.operationId;
      if (route.config?.rateLimited && id) limited.add(id);
      return { schema: documented, url };
    },
    transformObject(document) {
      const openapi = 'openapiObject' in document ? document.openapiObject : document.swaggerObject;
      return completeDocument(openapi as Record<string, unknown>, limited) as typeof openapi;
    },
  };
}

interface Operation {
  operationId?: string;
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string; headers?: Record<string, unknown>; content?: unknown }>;
}

/** Completes the document; `limited` holds the operationIds of the rate-limited routes. */
function completeDocument(document: Record<string, unknown>, limited: ReadonlySet<string>) {
  document.components ??= {};
  const components = document.components as Record<string, Record<string, unknown>>;
  components.headers = { ...components.headers, ...HEADERS };
  components.parameters = { ...components.parameters, ...PARAMETERS };
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const write = path.startsWith('/v1/') && isWrite(method.toUpperCase());
      const rateLimited = operation.operationId !== undefined && limited.has(operation.operationId);
      operation.parameters = [
        ...(operation.parameters ?? []),
        ...(write ? [ref('parameters', 'IdempotencyKey')] : []),
        ref('parameters', 'XRequestId'),
      ];
      operation.responses ??= {};
      const responses = operation.responses;
      for (const [status, response] of Object.entries(responses)) {
        const headers: Record<string, unknown> = { ...response.headers, 'X-Request-Id': ref('headers', 'XRequestId') };
        if (write) headers['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed');
        if (status === '429' || status === '503' || (write && status === '409'))
          headers['Retry-After'] = ref('headers', 'RetryAfter');
        if (rateLimited) {
          Object.assign(headers, {
            'RateLimit-Limit': ref('headers', 'RateLimitLimit'),
            'RateLimit-Remaining': ref('headers', 'RateLimitRemaining'),
            'RateLimit-Reset': ref('headers', 'RateLimitReset'),
          });
        }
        response.headers = headers;
      }
    }
  }
  return document;
}

/** The error codes any route of this kind may answer, besides its own. */
function sharedCodes(route: RouteOptions): ErrorCode[] {
  const methods = [route.method].flat();
  const api = route.url.startsWith('/v1/');
  const write = api && methods.some(isWrite);
  const codes: ErrorCode[] = ['validation_failed', 'internal_error', 'database_unavailable', 'shutting_down'];
  // rate_limited: too many API keys checked at once (auth/api-keys.service.ts), besides the routes' own limits.
  if (api && route.config?.access !== 'public')
    codes.push('unauthorized', 'forbidden', 'password_change_required', 'rate_limited');
  // conflict: a constraint only the database enforced (http/errors.ts), which any write may meet.
  if (write) codes.push('csrf_check_failed', 'conflict', 'idempotency_key_in_progress', 'idempotency_key_reused');
  if (route.schema?.body || route.config?.documentedBody) codes.push('payload_too_large', 'unsupported_media_type');
  if (route.config?.rateLimited) codes.push('rate_limited');
  return codes;
}

/** The message logged for an error answer its route does not declare (a gap in the document). */
export const UNDECLARED_ERROR = 'error answer not in the API contract';

const DETAIL_FIELDS = new Set(Object.keys(ErrorDetails.properties));

/**
 * Adds the codes every route shares to each route's error answers, merged with the route's own
 * (`errorResponses`), so that the document's `code` enums are complete. Register before the
 * routes; only documented routes (under /v1 and /session) are completed. An answer that breaks
 * its route's declaration (a code it does not list, a details field ErrorDetails lacks) is
 * logged as an error: the document is wrong there, and the tests fail on such a log.
 */
export function registerErrorContract(app: FastifyInstance): void {
  /** By `METHOD url`: the codes each error status of the route may carry. */
  const declared = new Map<string, Map<number, Set<string>>>();
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide || !(route.url.startsWith('/v1/') || route.url.startsWith('/session')))
      return;
    const response: Record<string, unknown> = { ...(route.schema.response as Record<string, unknown> | undefined) };
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of sharedCodes(route))
      byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
    for (const [status, codes] of byStatus)
      response[status] = errorSchema([...(codesOf(response[status]) ?? []), ...codes]);
    route.schema = { ...route.schema, response };
    const codes = new Map<number, Set<string>>();
    for (const [status, schema] of Object.entries(response)) {
      const of = codesOf(schema);
      if (of) codes.set(Number(status), new Set(of));
    }
    for (const method of [route.method].flat()) declared.set(`${method} ${route.url}`, codes);
  });
  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    const error = (payload as { error?: { code?: unknown; details?: object } } | null)?.error;
    if (reply.statusCode < 400 || typeof error?.code !== 'string') return payload;
    const codes = declared.get(`${request.method} ${request.routeOptions.url}`);
    if (!codes) return payload;
    const extra = Object.keys(error.details ?? {}).filter((field) => !DETAIL_FIELDS.has(field));
    if (!codes.get(reply.statusCode)?.has(error.code) || extra.length) {
      request.log.error(
        { route: `${request.method} ${request.routeOptions.url}`, status: reply.statusCode, code: error.code, extra },
        UNDECLARED_ERROR,
      );
    }
    return payload;
  });
}
