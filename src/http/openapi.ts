// What the OpenAPI document says beyond each route's own schemas: the headers every route
// shares (X-Request-Id; Idempotency-Key and Idempotent-Replayed on writes; Retry-After and
// RateLimit-* where they are sent), the body of a streamed upload, and the error answers the
// framework gives on its own (413, 415, 429).
import type { FastifySchema } from 'fastify';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { isWrite } from './idempotency';

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
  XRequestId: header("the request's id: the caller's X-Request-Id when it is 1–64 letters, digits, `.`, `_` or `-`, else a new UUID", {
    type: 'string',
  }),
  IdempotentReplayed: header('`true` when this is the stored answer to an earlier request with the same Idempotency-Key', {
    type: 'string',
    enum: ['true'],
  }),
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
      'Makes the write safe to retry: the same key with the same request within 24 hours answers the first response again ' +
      '(with `Idempotent-Replayed: true`) and changes nothing; with another request it is `422 idempotency_key_reused`. ' +
      '1–255 printable ASCII characters, e.g. a UUID.',
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

const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } },
});

/** Completes the document; `limited` holds the operationIds of the rate-limited routes. */
function completeDocument(document: Record<string, unknown>, limited: ReadonlySet<string>) {
  const components = (document.components ??= {}) as Record<string, Record<string, unknown>>;
  components.headers = { ...components.headers, ...HEADERS };
  components.parameters = { ...components.parameters, ...PARAMETERS };
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const write = path.startsWith('/v1/') && isWrite(method.toUpperCase());
      const rateLimited = operation.operationId !== undefined && limited.has(operation.operationId);
      operation.parameters = [...(operation.parameters ?? []), ...(write ? [ref('parameters', 'IdempotencyKey')] : []), ref('parameters', 'XRequestId')];
      const responses = (operation.responses ??= {});
      if (operation.requestBody) {
        responses['413'] ??= errorAnswer('payload_too_large: the body is over the limit');
        responses['415'] ??= errorAnswer('unsupported_media_type: the route does not take a body of this Content-Type');
      }
      if (rateLimited) responses['429'] ??= errorAnswer('rate_limited: over a rate limit; retry after Retry-After');
      if (write) {
        responses['409'] ??= errorAnswer('idempotency_key_in_progress: a request with this Idempotency-Key is still running');
        responses['422'] ??= errorAnswer('idempotency_key_reused: the Idempotency-Key was used with another request');
      }
      for (const [status, response] of Object.entries(responses)) {
        const headers: Record<string, unknown> = { ...response.headers, 'X-Request-Id': ref('headers', 'XRequestId') };
        if (write) headers['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed');
        if (status === '429' || status === '503' || (write && status === '409')) headers['Retry-After'] = ref('headers', 'RetryAfter');
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
