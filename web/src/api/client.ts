// The dashboard talks only to the public API (`/v1`) and the session routes, with the session
// cookie, through a client typed by the service's OpenAPI document (schema.d.ts): paths, path and
// query parameters, bodies and answers are all checked by the compiler. Every request carries the
// header the service requires of cookie-authenticated changes, so another site cannot forge one.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import type { ErrorCode, ErrorDetails, ImportQuery, NewImport } from './types';

export const CSRF_HEADER = { 'x-requested-with': 'promo-dashboard' } as const;

/** What an ApiError's `code` can be: the service's codes, or ours for a failed call. */
export type FailureCode = ErrorCode | 'network_error' | `http_${number}`;

/** An error answered by the service, in its `{"error": {code, message, details}}` shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: FailureCode,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
  }

  /**
   * Field-level messages of a `400 validation_failed`, keyed by the field's path without `body.`
   * (`outcome.points.amount`).
   */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    const fields = this.details?.fields;
    const list = Array.isArray(fields) ? fields : [];
    for (const item of list) {
      if (!item?.path) continue;
      const key = item.path.replace(/^body\.?/, '');
      out[key] ??= item.message ?? 'invalid';
    }
    return out;
  }
}

/** True for a 404: what was asked for does not exist (a page then says so instead of an error). */
export const isNotFound = (error: unknown) => error instanceof ApiError && error.status === 404;

/** The ApiError for a failed answer, from its parsed body (anything, or nothing). */
function failureOf(status: number, statusText: string, body: unknown): ApiError {
  const error = (body as { error?: { code?: FailureCode; message?: string; details?: ErrorDetails } } | undefined)
    ?.error;
  return new ApiError(status, error?.code ?? `http_${status}`, error?.message ?? statusText, error?.details);
}

/** Listeners told when the session has ended (401 from the service), so the app can show the login. */
const sessionEnded = new Set<() => void>();
export function onSessionEnded(listener: () => void): () => void {
  sessionEnded.add(listener);
  return () => sessionEnded.delete(listener);
}
const endSession = () => {
  for (const listener of sessionEnded) listener();
};

const dashboard: Middleware = {
  onRequest({ request }) {
    request.headers.set('x-requested-with', CSRF_HEADER['x-requested-with']);
    return request;
  },
  onResponse({ response, schemaPath }) {
    // A 401 from the session routes is an answer about the form (wrong password), not the end of a session.
    if (response.status === 401 && !schemaPath.startsWith('/session')) endSession();
    return undefined;
  },
  onError() {
    return new ApiError(0, 'network_error', 'The service could not be reached. Check your connection and try again.');
  },
};

/** The typed client: `api.GET('/v1/lists/{id}', { params: { path: { id } } })`. Wrap calls in `unwrap`. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(dashboard);

/**
 * The answer of a call, or an ApiError thrown for a failed one:
 * `const list = await unwrap(api.GET('/v1/lists/{id}', { params: { path: { id } } }))`.
 */
export async function unwrap<Data>(call: Promise<{ data?: Data; error?: unknown; response: Response }>): Promise<Data> {
  const { data, error, response } = await call;
  if (!response.ok) throw failureOf(response.status, response.statusText, error);
  return data as Data;
}

/** A query string (`?a=1&b=x`) of the values of `params` that are set (not undefined, null or ''). */
function search(params: Record<string, string | number | boolean | null | undefined>): string {
  const found = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') found.set(name, String(value));
  const text = found.toString();
  return text ? `?${text}` : '';
}

/**
 * Uploads a file of codes to a third-party list (POST /v1/lists/{id}/imports, multipart, field
 * `file`) with progress, which fetch does not report. Resolves with the new import or rejects
 * with an ApiError.
 */
export function uploadImport(
  listId: string,
  file: File,
  query: ImportQuery,
  onProgress: (fraction: number) => void,
): Promise<NewImport> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/lists/${encodeURIComponent(listId)}/imports${search(query)}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('x-requested-with', CSRF_HEADER['x-requested-with']);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection and try again.'));
    xhr.onload = () => {
      let data: unknown;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data as NewImport);
      if (xhr.status === 401) endSession();
      reject(failureOf(xhr.status, xhr.statusText, data));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
