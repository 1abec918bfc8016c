// The dashboard talks only to the public API (`/v1`) and the session routes, with the session
// cookie. Every state-changing request carries the header the service requires of
// cookie-authenticated calls, so another site cannot forge one.
export const CSRF_HEADER = { 'x-requested-with': 'promo-dashboard' } as const;

/** An error answered by the service, in its `{"error": {code, message, details}}` shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Field-level messages of a `400 validation_failed`, keyed by the field's path without `body.` (`outcome.points.amount`). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    const fields = (this.details as { fields?: { path?: string; message?: string }[] } | undefined)?.fields;
    const list = Array.isArray(fields) ? fields : [];
    for (const item of list) {
      if (!item?.path) continue;
      const key = item.path.replace(/^body\.?/, '');
      out[key] ??= item.message ?? 'invalid';
    }
    return out;
  }
}

/** Listeners told when the session has ended (401 from the service), so the app can show the login. */
const sessionEnded = new Set<() => void>();
export function onSessionEnded(listener: () => void): () => void {
  sessionEnded.add(listener);
  return () => sessionEnded.delete(listener);
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function request<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...CSRF_HEADER, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The service could not be reached. Check your connection and try again.');
  }
  const data = await parse(response);
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const failure = new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? response.statusText, error?.details);
    if (response.status === 401 && !url.startsWith('/session')) for (const listener of sessionEnded) listener();
    throw failure;
  }
  return data as T;
}

/** Calls `/v1<path>`. */
export const api = {
  get: <T>(path: string) => request<T>('GET', `/v1${path}`),
  post: <T>(path: string, body: unknown = {}, headers?: Record<string, string>) => request<T>('POST', `/v1${path}`, body, headers),
  put: <T>(path: string, body: unknown = {}) => request<T>('PUT', `/v1${path}`, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', `/v1${path}`, body),
  delete: <T>(path: string) => request<T>('DELETE', `/v1${path}`),
};

/** The session routes, outside `/v1`. */
export const sessionApi = {
  current: () => request<{ operator: Operator }>('GET', '/session'),
  login: (email: string, password: string) => request<{ operator: Operator }>('POST', '/session', { email, password }),
  logout: () => request<void>('DELETE', '/session'),
  changePassword: (current_password: string, new_password: string) =>
    request<{ operator: Operator }>('POST', '/session/password', { current_password, new_password }),
};

/** Query string from the defined values of `params`. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Uploads a file with progress (fetch reports no upload progress). Resolves with the parsed
 * answer or rejects with an ApiError.
 */
export function upload<T>(path: string, file: File, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1${path}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('x-requested-with', CSRF_HEADER['x-requested-with']);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection and try again.'));
    xhr.onload = () => {
      let data: any;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data as T);
      if (xhr.status === 401) for (const listener of sessionEnded) listener();
      reject(new ApiError(xhr.status, data?.error?.code ?? `http_${xhr.status}`, data?.error?.message ?? xhr.statusText, data?.error?.details));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

export type Role = 'admin' | 'agent' | 'client';

export interface Operator {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  must_change_password: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
