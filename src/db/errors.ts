// What a database error means for the caller, by SQLSTATE or, for failures below SQL, by
// what pg and Node say. The HTTP error handler and the jobs both ask here.

/** The SQLSTATE of an error PostgreSQL sent, or undefined for any other error. */
export function sqlState(error: unknown): string | undefined {
  const e = error as { code?: unknown; severity?: unknown } | null;
  // pg's DatabaseError carries the server's severity; Node's errors have a code but no severity.
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string'
    ? e.code
    : undefined;
}

// 08: connection exception (but 08P01, a protocol violation: a bug of the client's, not an
// outage); 53: insufficient resources (too many connections, out of memory or disk);
// 57P01–57P03: the server is shutting down, crashed, or not yet accepting.
const UNAVAILABLE_STATES = /^08(?!P01)|^53|^57P0[123]$/;

// Errors from the socket under pg: the server is unreachable, or went away mid-query.
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

// What pg and pg-pool throw, with no code, when a connection is lost, cannot be made in time,
// or is used after it broke; and the pool used after shutdown has ended it.
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // "… unexpectedly", "… due to connection timeout"
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

/**
 * True when `error` says the database cannot be reached or cannot take work now, as opposed
 * to a refusal of this statement: the request may succeed if tried again in a moment.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const state = sqlState(error);
  if (state !== undefined) return UNAVAILABLE_STATES.test(state);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) return true;
  // A Unix socket whose file is gone: the server is not running (as ECONNREFUSED over TCP).
  if (code === 'ENOENT' && (error as { syscall?: unknown }).syscall === 'connect') return true;
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  // Node's happy-eyeballs connect (IPv6 and IPv4 for `localhost`) fails with an AggregateError.
  return error instanceof AggregateError && error.errors.some(isDatabaseUnavailable);
}
