// The service's error model. Domain code throws DomainError with a code from docs/product.md;
// the error handler turns it, and every framework error, into
// {"error": {"code", "message", "details?"}} with the right status. Anything unexpected
// becomes a 500 whose detail is logged, never sent.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable, sqlState } from '../db/errors';
import { statusOf, type ErrorCode } from './error-codes';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A write whose fate a lost database connection leaves unknown: what it is and where to
     * look, so that the 503 tells a client without an Idempotency-Key to check before retrying.
     */
    uncertainWrite?: { what: string; check: string };
  }
}

export interface ErrorDetail {
  path: string;
  message: string;
}

/** What an error may say beyond its message: one shape for every code (ErrorDetails in http/schemas.ts). */
export interface ErrorDetails {
  /** The values at fault, by path (`body.count`, `querystring.cursor`, `headers.idempotency-key`). */
  fields?: ErrorDetail[];
  list_id?: string;
  locked_until?: string;
  period?: string;
  limit?: number;
  max_count?: number;
  possible_codes?: string;
}

export class DomainError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'DomainError';
    this.status = statusOf(code);
  }
}

export const notFound = (
  entity:
    | 'api_key'
    | 'batch'
    | 'claim'
    | 'code'
    | 'customer'
    | 'import'
    | 'list'
    | 'offer'
    | 'operator'
    | 'webhook_endpoint'
    | 'webhook_delivery',
  id: string,
) => new DomainError(`${entity}_not_found`, `${entity.replace(/_/g, ' ')} ${JSON.stringify(id)} does not exist`);

export const invalid = (fields: ErrorDetail[]) =>
  new DomainError('validation_failed', fields.map((d) => `${d.path}: ${d.message}`).join('; '), { fields });

export const conflict = (code: ErrorCode, message: string, details?: ErrorDetails) =>
  new DomainError(code, message, details);

export function errorBody(code: ErrorCode, message: string, details?: ErrorDetails) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

// Framework errors a client can cause, by Fastify error code.
const CLIENT_ERRORS: Record<string, [number, ErrorCode]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'validation_failed'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'validation_failed'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'validation_failed'],
  FST_ERR_BAD_URL: [400, 'validation_failed'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'validation_failed'],
};

// A nullable field (a union with null) whose value fails also "must be null" and "must match
// a schema in anyOf"; beside the real reason, those say nothing.
const isUnionEcho = (v: { keyword: string; params: unknown }) =>
  v.keyword === 'anyOf' || (v.keyword === 'type' && (v.params as { type?: unknown }).type === 'null');

function validationDetails(error: FastifyError): ErrorDetail[] {
  const part = error.validationContext ?? 'body';
  const all = error.validation ?? [];
  const reasons = all.filter(
    (v) => !isUnionEcho(v) || !all.some((o) => !isUnionEcho(o) && o.instancePath === v.instancePath),
  );
  return reasons.map((v) => {
    const segments = v.instancePath
      .split('/')
      .filter(Boolean)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'additionalProperties') {
      return {
        path: [part, ...segments, String(params.additionalProperty)].join('.'),
        message: 'is not an allowed field',
      };
    }
    if (v.keyword === 'required') {
      return { path: [part, ...segments, String(params.missingProperty)].join('.'), message: 'is required' };
    }
    return { path: [part, ...segments].join('.'), message: v.message ?? 'is invalid' };
  });
}

// PostgreSQL integrity violations (class 23) that no check in code caught first. A duplicate
// or a missing or still-referenced row is a conflict with what is stored; a null or a value a
// CHECK refuses is a bad value. Constraint and table names stay in the log.
const INTEGRITY_VIOLATIONS: Record<string, [number, ErrorCode, string]> = {
  '23502': [400, 'validation_failed', 'a required value is missing'],
  '23514': [400, 'validation_failed', 'a value in the request is not acceptable'],
  '23505': [409, 'conflict', 'the request conflicts with a record that already exists'],
  '23503': [409, 'conflict', 'the request refers to a record that does not exist, or one that others still refer to'],
};
const OTHER_INTEGRITY_VIOLATION: [number, ErrorCode, string] = [
  409,
  'conflict',
  'the request conflicts with the stored records',
];

const RETRY_AFTER_SECONDS = '1';

/** The 503 for a database that cannot be reached, and what a client should do about it. */
function databaseUnavailable(request: FastifyRequest): DomainError {
  // Until authentication succeeds (auth/auth.plugin.ts) the write has not begun: nothing to check.
  const write = request.principal ? request.routeOptions.config.uncertainWrite : undefined;
  let message = 'the database is unavailable; retry in a moment';
  if (write && request.headers['idempotency-key'] !== undefined) {
    message =
      'the database is unavailable; retrying with the same Idempotency-Key is safe: ' +
      `${write.what} is applied once at most`;
  } else if (write) {
    message =
      `the database is unavailable, so ${write.what} may or may not have been applied: ` +
      `check ${write.check} before retrying, ` +
      'or send an Idempotency-Key header so that retries are safe';
  }
  return new DomainError('database_unavailable', message, undefined, { 'retry-after': RETRY_AFTER_SECONDS });
}

export function registerErrorHandling(app: FastifyInstance): void {
  const sendDomainError = (reply: FastifyReply, error: DomainError) => {
    if (error.headers) reply.headers(error.headers);
    return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
  };
  app.setErrorHandler((error: FastifyError | DomainError, request, reply) => {
    if (error instanceof DomainError) return sendDomainError(reply, error);
    if (error.validation) {
      const details = validationDetails(error);
      return reply
        .status(400)
        .send(
          errorBody('validation_failed', details.map((d) => `${d.path} ${d.message}`).join('; '), { fields: details }),
        );
    }
    const known = error.code ? CLIENT_ERRORS[error.code] : undefined;
    if (known) return reply.status(known[0]).send(errorBody(known[1], error.message));
    // PostgreSQL data exceptions (class 22: bad number, timestamp, or text encoding) come from
    // values a client sent that passed the schema, such as a tampered cursor.
    const state = sqlState(error);
    if (state?.startsWith('22')) {
      return reply.status(400).send(errorBody('validation_failed', 'a value in the request is not acceptable'));
    }
    if (state?.startsWith('23')) {
      // A constraint only the database enforced: a message in code is missing, so it is logged.
      request.log.warn({ err: error }, 'integrity violation reached the error handler');
      const [status, code, message] = INTEGRITY_VIOLATIONS[state] ?? OTHER_INTEGRITY_VIOLATION;
      return reply.status(status).send(errorBody(code, message));
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      return sendDomainError(reply, databaseUnavailable(request));
    }
    if (error instanceof SyntaxError || (error.statusCode === 400 && !error.code?.startsWith('FST_ERR_'))) {
      return reply.status(400).send(errorBody('validation_failed', `malformed request: ${error.message}`));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send(errorBody('bad_request', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody('internal_error', 'an unexpected error occurred; it has been logged'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/**
 * Fastify's `frameworkErrors`: a URL it cannot route (bad percent-encoding, a path segment
 * over `maxParamLength`) is refused before any hook or error handler runs, so it is answered
 * here, in the same shape as every other error.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is too long'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'the URL is not valid'
        : error.message;
  void reply
    .header('x-request-id', request.id)
    .status(400)
    .send(errorBody('validation_failed', message, { fields: [{ path: 'params', message }] }));
}

/** Still answered while shutting down: /readyz says `shutting_down` itself, /healthz stays 200
 * so that the process is not killed while it drains, and /metrics can be scraped to the end. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Once shutdown begins, a request that still arrives (on a kept-alive connection) is answered
 * 503 in the error shape, with Retry-After and the connection closed so that the client's
 * retry goes to another node. Fastify's own `return503OnClosing` answers in its shape, so it
 * is off. Register before the auth hook: a refused request costs no key lookup.
 */
export function refuseWhileShuttingDown(app: FastifyInstance): void {
  app.addHook('preClose', async () => {
    app.shuttingDown = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!app.shuttingDown || PROBES.has(request.routeOptions.url ?? '')) return;
    return reply
      .status(503)
      .headers({ 'retry-after': '5', connection: 'close' })
      .send(errorBody('shutting_down', 'this server is shutting down; retry the request in a moment'));
  });
}

/**
 * HTTP/1.1 requires a Host header (RFC 9112 §3.2). Node refuses a request without one with a
 * bare 400 unless told not to (`http.requireHostHeader: false`, app.ts); it is refused here
 * instead, in the error shape.
 */
export function requireHostHeader(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion !== '1.1' || request.headers.host) return;
    return reply
      .status(400)
      .header('connection', 'close')
      .send(
        errorBody('validation_failed', 'an HTTP/1.1 request needs a Host header', {
          fields: [{ path: 'headers.host', message: 'is required' }],
        }),
      );
  });
}

// Failures of the HTTP parser, by Node's error code; anything else it refuses is a 400.
const CONNECTION_ERRORS: Record<string, [number, ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'the request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'payload_too_large', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request did not arrive in time'],
};

/**
 * Fastify's `clientErrorHandler`: a request Node's parser refuses (a bad request line, a NUL
 * in a header, headers over the size limit, a timeout) never becomes a Fastify request, so it
 * is answered here, on the raw socket, in the same error shape as everything else.
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const reason = (error as { reason?: unknown }).reason;
  const [status, code, message] = CONNECTION_ERRORS[error.code] ?? [
    400,
    'validation_failed',
    typeof reason === 'string' ? `malformed HTTP request: ${reason}` : 'malformed HTTP request',
  ];
  this.log.debug({ err: error }, 'refused by the HTTP parser');
  // As Node does: no answer once a response on this connection has begun, or it would corrupt it.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(errorBody(code, message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
