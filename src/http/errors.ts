// The service's error model. Domain code throws DomainError with a code from SPEC.md;
// the error handler turns it, and every framework error, into
// {"error": {"code", "message", "details?"}} with the right status. Anything unexpected
// becomes a 500 whose detail is logged, never sent.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ErrorDetail {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (entity: string, id: string) =>
  new DomainError(404, `${entity}_not_found`, `${entity.replace(/_/g, ' ')} ${JSON.stringify(id)} does not exist`);

export const invalid = (details: ErrorDetail[]) =>
  new DomainError(400, 'validation_failed', details.map((d) => `${d.path}: ${d.message}`).join('; '), details);

export const conflict = (code: string, message: string, details?: unknown) => new DomainError(409, code, message, details);

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

// Framework errors a client can cause, by Fastify error code.
const CLIENT_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'validation_failed'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'validation_failed'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'validation_failed'],
  FST_ERR_BAD_URL: [400, 'validation_failed'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'validation_failed'],
};

function validationDetails(error: FastifyError): ErrorDetail[] {
  const part = error.validationContext ?? 'body';
  return (error.validation ?? []).map((v) => {
    const segments = v.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'additionalProperties') {
      return { path: [part, ...segments, String(params.additionalProperty)].join('.'), message: 'is not an allowed field' };
    }
    if (v.keyword === 'required') {
      return { path: [part, ...segments, String(params.missingProperty)].join('.'), message: 'is required' };
    }
    return { path: [part, ...segments].join('.'), message: v.message ?? 'is invalid' };
  });
}

function isPgDataException(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown };
  return typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code) && typeof e.severity === 'string';
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | DomainError, request, reply) => {
    if (error instanceof DomainError) {
      if (error.headers) reply.headers(error.headers);
      return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
    }
    if (error.validation) {
      const details = validationDetails(error);
      return reply.status(400).send(errorBody('validation_failed', details.map((d) => `${d.path} ${d.message}`).join('; '), details));
    }
    const known = error.code ? CLIENT_ERRORS[error.code] : undefined;
    if (known) return reply.status(known[0]).send(errorBody(known[1], error.message));
    // PostgreSQL data exceptions (class 22: bad number, timestamp, or text encoding) come from
    // values a client sent that passed the schema, such as a tampered cursor.
    if (isPgDataException(error)) {
      return reply.status(400).send(errorBody('validation_failed', 'a value in the request is not acceptable'));
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
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid' : error.message;
  void reply
    .header('x-request-id', request.id)
    .status(400)
    .send(errorBody('validation_failed', message, [{ path: 'params', message }]));
}
