// Idempotency-Key on every write under /v1 (docs/product.md, "Retrying a write").
//
// A write sent with a key runs in one transaction that also holds the key's row: the row is
// inserted first, the route's own transactions join that transaction as savepoints
// (db/pool.ts), and the response is stored in the row before the commit. So the write and its
// stored answer commit together or not at all:
// - a duplicate that arrives while the first still runs blocks on the row's primary key until
//   the first commits, then replays its response (after IDEMPOTENCY_WAIT_MS it answers
//   409 idempotency_key_in_progress with Retry-After instead of waiting longer);
// - if the first rolls back (a crash, a lost connection), the key is free again and a retry
//   does the work itself;
// - a refusal (a DomainError) is a response too: the work's writes are rolled back to a
//   savepoint and the refusal is stored, so a retry gets the same answer.
// A streamed body (an upload) is not known when the write starts: such a route marks itself
// `config.idempotency: 'streamed'` and calls `bindStreamedBody(digest)` once it has read the
// body, in the same transaction; a duplicate upload is then rolled back whole. A route whose
// answer holds a derived secret (`config.derivedSecret`) stores the answer without it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { joiningTransaction, retryingDeadlocks, withClient, type Pool, type Tx } from '../db/pool';
import { actorOf } from '../auth/roles';
import { DomainError, errorBody, invalid } from './errors';

const IDEMPOTENCY_WINDOW = '24 hours';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const LOCK_NOT_AVAILABLE = '55P03';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The methods that change something, and so take an Idempotency-Key under /v1. */
export const isWrite = (method: string) => WRITE_METHODS.has(method);
/** Headers a handler sets that belong to the response it stores; the rest are per delivery. */
const PER_DELIVERY = new Set([
  'x-request-id',
  'connection',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
]);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'streamed': the body is a stream the handler reads and binds with `bindStreamedBody`. */
    idempotency?: 'streamed';
    /**
     * A success answer carrying a secret the service can derive again (a webhook endpoint's):
     * stored without it and given it back on replay, so that stored answers hold no secret.
     */
    derivedSecret?: { omit(body: unknown): unknown; restore(body: unknown): unknown };
  }
}

/** A response as sent, so that a replay sends the same thing. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A domain error as the response the error handler would send for it. */
export const responseOf = (error: DomainError): StoredResponse => ({
  status: error.status,
  body: errorBody(error.code, error.message, error.details),
  headers: error.headers,
});

/** The Idempotency-Key header of a request, or null; a malformed key is a 400. */
function idempotencyKey(request: FastifyRequest): string | null {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return null;
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
    throw invalid([{ path: 'headers.idempotency-key', message: 'must be 1–255 printable ASCII characters' }]);
  }
  return raw;
}

function fingerprint(request: unknown): string {
  const canonical = JSON.stringify(request, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** The response stored for a key, once the request that holds it has committed. */
class Replay extends Error {
  constructor(readonly stored: StoredResponse) {
    super('replay');
  }
}

interface KeyScope {
  /** How long to wait for a running request with the same key, in ms. */
  waitMs: number;
  principal: string;
  key: string;
  /** Method, route, parameters and body: the same key with another request is refused. */
  request: Record<string, unknown>;
}

/**
 * Takes the key for this transaction, or throws: Replay with the stored response, 422 when
 * the key was used with another request, 409 when its first request is still running.
 */
async function takeKey(tx: Tx, scope: KeyScope): Promise<void> {
  const hash = fingerprint(scope.request);
  await tx.query(`SET LOCAL lock_timeout = ${Math.trunc(scope.waitMs)}`);
  let taken: { rowCount: number | null };
  try {
    taken = await tx.query(
      `INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (principal, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - $4::interval
       RETURNING 1`,
      [scope.principal, scope.key, hash, IDEMPOTENCY_WINDOW],
    );
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    throw new DomainError(
      'idempotency_key_in_progress',
      'a request with this Idempotency-Key is still running; retry in a moment',
      undefined,
      { 'retry-after': '1' },
    );
  }
  await tx.query('SET LOCAL lock_timeout = DEFAULT');
  if (taken.rowCount) return;
  const { rows } = await tx.query<{
    request_hash: string;
    status: number;
    response: { body: unknown; headers?: Record<string, string> };
  }>('SELECT request_hash, status, response FROM idempotency_keys WHERE principal = $1 AND key = $2', [
    scope.principal,
    scope.key,
  ]);
  const stored = rows[0]!;
  if (stored.request_hash !== hash) {
    throw new DomainError(
      'idempotency_key_reused',
      'this Idempotency-Key was used with a different request in the last 24 hours',
    );
  }
  throw new Replay({ status: stored.status, body: stored.response.body, headers: stored.response.headers });
}

const storeResponse = (tx: Tx, scope: KeyScope, response: StoredResponse) =>
  tx.query('UPDATE idempotency_keys SET status = $3, response = $4 WHERE principal = $1 AND key = $2', [
    scope.principal,
    scope.key,
    response.status,
    JSON.stringify({ body: response.body, headers: response.headers }),
  ]);

/** While a streamed keyed write runs: takes its key for the digest of the body it read. */
const bodyBinding = new AsyncLocalStorage<((digest: string) => Promise<void>) | null>();

type DerivedSecret = NonNullable<FastifyContextConfig['derivedSecret']>;

const succeeded = (response: StoredResponse) => response.status < 300;

type Headers = Record<string, string | number | string[] | undefined>;

function headersSet(before: Headers, after: Headers): Record<string, string> | undefined {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(after)) {
    if (PER_DELIVERY.has(name) || value === undefined || before[name] === value) continue;
    set[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return Object.keys(set).length ? set : undefined;
}

function replay(reply: FastifyReply, stored: StoredResponse): unknown {
  if (stored.headers) reply.headers(stored.headers);
  reply.header('idempotent-replayed', 'true');
  reply.status(stored.status);
  return stored.body;
}

/** The request a key is bound to, its body aside. */
const requestOf = (request: FastifyRequest) => ({
  method: request.method,
  route: request.routeOptions.url,
  params: request.params,
  query: request.query,
});

/**
 * Runs a keyed write: the handler inside the key's transaction, its answer stored with it.
 * `streamed`: the key is taken when the handler binds its body's digest.
 */
async function runKeyed(
  pool: Pool,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: KeyScope,
  streamed: boolean,
  secret: DerivedSecret | undefined,
  handle: () => Promise<unknown>,
): Promise<unknown> {
  const headersBefore = { ...reply.getHeaders() };
  return withClient(pool, async (tx) => {
    let open = false;
    try {
      await tx.query('BEGIN');
      open = true;
      let taken = false;
      if (!streamed) {
        await takeKey(tx, scope);
        taken = true;
      }
      await tx.query('SAVEPOINT idempotent_work');
      let response: StoredResponse;
      try {
        const binding = streamed
          ? async (digest: string) => {
              if (taken) throw new Error('a streamed body is bound once');
              await takeKey(tx, { ...scope, request: { ...scope.request, body_sha256: digest } });
              taken = true;
            }
          : null;
        const body = await bodyBinding.run(binding, () => joiningTransaction(tx, handle));
        if (reply.sent)
          throw new Error(
            `${request.method} ${request.routeOptions.url}: a write handler returns its body, it does not send it`,
          );
        if (!taken)
          throw new Error(`${request.method} ${request.routeOptions.url}: a streamed write must bind its body`);
        response = { status: reply.statusCode, body, headers: headersSet(headersBefore, reply.getHeaders()) };
      } catch (error) {
        // A refusal after the key was taken is the answer to store; the key taken inside the
        // work (a streamed body) would go with the savepoint, so that refusal is not stored.
        if (!(error instanceof DomainError) || !taken || streamed) throw error;
        await tx.query('ROLLBACK TO SAVEPOINT idempotent_work');
        response = responseOf(error);
      }
      await storeResponse(
        tx,
        scope,
        secret && succeeded(response) ? { ...response, body: secret.omit(response.body) } : response,
      );
      await tx.query('COMMIT');
      open = false;
      if (response.headers) reply.headers(response.headers);
      reply.status(response.status);
      return response.body;
    } catch (error) {
      if (open) await tx.query('ROLLBACK');
      if (error instanceof Replay) {
        const stored = error.stored;
        return replay(reply, secret && succeeded(stored) ? { ...stored, body: secret.restore(stored.body) } : stored);
      }
      throw error;
    }
  });
}

/**
 * For a `config.idempotency: 'streamed'` route: binds the key, if the request has one, to the
 * SHA-256 of the body just read. Throws to end the request when the key was already used (the
 * handler's transaction is then rolled back and the first response replayed).
 */
export async function bindStreamedBody(digest: string): Promise<void> {
  const bind = bodyBinding.getStore();
  if (bind) await bind(digest);
}

/**
 * Makes every write route under /v1 honour Idempotency-Key. Registered before the routes: it
 * wraps each write handler as the route is added.
 */
export function registerIdempotency(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith('/v1/') || !methods.some(isWrite)) return;
    const handler = route.handler as RouteHandlerMethod;
    const streamed = route.config?.idempotency === 'streamed';
    const secret = route.config?.derivedSecret;
    route.handler = async function keyed(this: FastifyInstance, request, reply) {
      const key = idempotencyKey(request);
      if (key === null || !request.principal) return handler.call(this, request, reply);
      const scope: KeyScope = {
        waitMs: app.config.idempotencyWaitMs,
        principal: actorOf(request.principal),
        key,
        request: { ...requestOf(request), body: streamed ? null : request.body },
      };
      const run = () =>
        runKeyed(app.pool, request, reply, scope, streamed, secret, () =>
          Promise.resolve(handler.call(this, request, reply)),
        );
      // A deadlock rolls the whole attempt back, the key's row with it: run it again. A
      // streamed body has been read by then, so that attempt's error stands.
      return streamed ? run() : retryingDeadlocks(run);
    };
  });
}

/** Keys older than the window are never replayed; removing them (hourly) keeps the table small. */
export async function deleteExpiredKeys(db: Pool): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval', [
    IDEMPOTENCY_WINDOW,
  ]);
  return rowCount ?? 0;
}
