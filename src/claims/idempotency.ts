// Idempotency-Key for claims and reversals. The key row is inserted first, in the same
// transaction as the work: a concurrent duplicate blocks on the primary key until the first
// commits, then finds the stored response and replays it, so the work runs once. If the first
// rolls back, the key is free again and the duplicate does the work itself.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { DomainError, errorBody, invalid } from '../http/errors';
import { transactionRetryingDeadlocks, type Pool, type Tx } from '../db/pool';

const IDEMPOTENCY_WINDOW = '24 hours';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A response as sent, so that a replay sends the same thing. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface IdempotencyScope {
  principal: string;
  key: string;
  /** Route and body: the same key with another request is refused. */
  request: unknown;
}

/** A domain error as the response the error handler would send for it. */
export const responseOf = (error: DomainError): StoredResponse => ({
  status: error.status,
  body: errorBody(error.code, error.message, error.details),
  headers: error.headers,
});

/** The Idempotency-Key header of a request, or null; a malformed key is a 400. */
export function idempotencyKey(request: FastifyRequest): string | null {
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

/**
 * Runs `work` once per key within the window and replays its response afterwards. A domain
 * error from `work` is a response too (its writes are rolled back to a savepoint, the
 * refusal is stored); any other error leaves no trace, so the client may retry.
 */
export async function withIdempotency(
  pool: Pool,
  scope: IdempotencyScope,
  work: (tx: Tx) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const hash = fingerprint(scope.request);
  // Run again when picked to break a deadlock: the key row goes with the rolled-back rest.
  return transactionRetryingDeadlocks(pool, async (tx) => {
    const claimed = await tx.query(
      `INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (principal, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status = NULL, response = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - $4::interval
       RETURNING 1`,
      [scope.principal, scope.key, hash, IDEMPOTENCY_WINDOW],
    );
    if (!claimed.rowCount) {
      const { rows } = await tx.query<{ request_hash: string; status: number; response: { body: unknown; headers?: Record<string, string> } }>(
        'SELECT request_hash, status, response FROM idempotency_keys WHERE principal = $1 AND key = $2',
        [scope.principal, scope.key],
      );
      const stored = rows[0]!;
      if (stored.request_hash !== hash) {
        throw new DomainError(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request in the last 24 hours');
      }
      return { status: stored.status, body: stored.response.body, headers: stored.response.headers, replayed: true };
    }

    await tx.query('SAVEPOINT idempotent_work');
    let response: StoredResponse;
    try {
      response = await work(tx);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await tx.query('ROLLBACK TO SAVEPOINT idempotent_work');
      response = responseOf(error);
    }
    await tx.query('UPDATE idempotency_keys SET status = $3, response = $4 WHERE principal = $1 AND key = $2', [
      scope.principal,
      scope.key,
      response.status,
      JSON.stringify({ body: response.body, headers: response.headers }),
    ]);
    return { ...response, replayed: false };
  });
}

export const DELETE_EXPIRED_IDEMPOTENCY_KEYS = 'delete_expired_idempotency_keys';

/** Keys older than the window are never replayed; removing them (hourly) keeps the table small. */
export async function deleteExpiredKeys(db: Pool): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval', [IDEMPOTENCY_WINDOW]);
  return rowCount ?? 0;
}
