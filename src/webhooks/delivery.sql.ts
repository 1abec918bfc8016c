// The SQL of webhook delivery: the endpoint's cursor, the outbox page after it, and the
// deliveries log (migration 010).
import type { Queryable } from '../db/pool';

export interface DeliveryEndpointRow {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  secret_version: number;
  previous_secret_version: number | null;
  secret_rotated_at: Date | null;
  cursor_xid: string;
  cursor_id: string;
}

export async function findDeliveryEndpoint(db: Queryable, id: string): Promise<DeliveryEndpointRow | undefined> {
  const { rows } = await db.query<DeliveryEndpointRow>(
    `SELECT id, url, events, enabled, secret_version, previous_secret_version, secret_rotated_at,
            cursor_xid::text, cursor_id::text
       FROM webhook_endpoints WHERE id = $1`,
    [id],
  );
  return rows[0];
}

export interface OutboxEvent {
  id: string;
  xid: string;
  type: string;
  created_at: Date;
  /** The event's data as JSON text, put into the body as it is. */
  data: string;
}

export async function eventsAfter(db: Queryable, xid: string, id: string, limit: number): Promise<OutboxEvent[]> {
  const { rows } = await db.query<OutboxEvent>(
    'SELECT id::text, xid::text, type, created_at, data::text FROM events_after($1::xid8, $2::bigint, $3)',
    [xid, id, limit],
  );
  return rows;
}

export async function findEvent(db: Queryable, id: string): Promise<OutboxEvent | undefined> {
  const { rows } = await db.query<OutboxEvent>(
    'SELECT id::text, xid::text, type, created_at, data::text FROM events WHERE id = $1',
    [id],
  );
  return rows[0];
}

export async function moveCursor(db: Queryable, endpointId: string, xid: string, id: string): Promise<void> {
  await db.query('UPDATE webhook_endpoints SET cursor_xid = $2::xid8, cursor_id = $3 WHERE id = $1', [
    endpointId,
    xid,
    id,
  ]);
}

export interface Delivered {
  eventId: string;
  type: string;
  status: number;
  latencyMs: number;
  body: string | null;
}

/** Records events delivered, in one statement for many. */
export async function recordDelivered(db: Queryable, endpointId: string, done: Delivered[]): Promise<void> {
  if (!done.length) return;
  await db.query(
    `INSERT INTO webhook_deliveries AS d (endpoint_id, event_id, event_type, attempts, last_status_code,
                                          last_latency_ms, last_response_body, delivered_at)
     SELECT $1, e, t, 1, s, l, b, now()
       FROM unnest($2::bigint[], $3::text[], $4::int[], $5::int[], $6::text[]) AS x (e, t, s, l, b)
     ON CONFLICT (endpoint_id, event_id) DO UPDATE
        SET attempts = d.attempts + 1, last_status_code = excluded.last_status_code,
            last_latency_ms = excluded.last_latency_ms, last_response_body = excluded.last_response_body,
            last_error = NULL, next_retry_at = NULL, delivered_at = COALESCE(d.delivered_at, now()),
            updated_at = now()`,
    [
      endpointId,
      done.map((d) => d.eventId),
      done.map((d) => d.type),
      done.map((d) => d.status),
      done.map((d) => d.latencyMs),
      done.map((d) => d.body),
    ],
  );
}

export interface Attempt {
  eventId: string;
  type: string;
  ok: boolean;
  status: number | null;
  latencyMs: number;
  body: string | null;
  error: string | null;
  /** For a failure delivery will retry: when. */
  nextRetryAt: Date | null;
}

/** Records one attempt; returns the delivery as it now is. */
export async function recordAttempt(db: Queryable, endpointId: string, attempt: Attempt): Promise<DeliveryRow> {
  const { rows } = await db.query<DeliveryRow>(
    `INSERT INTO webhook_deliveries AS d (endpoint_id, event_id, event_type, attempts, last_status_code,
                                          last_latency_ms, last_response_body, last_error, first_failed_at,
                                          next_retry_at, delivered_at)
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, CASE WHEN $8 THEN NULL ELSE now() END, $9,
             CASE WHEN $8 THEN now() END)
     ON CONFLICT (endpoint_id, event_id) DO UPDATE
        SET attempts = d.attempts + 1, last_status_code = excluded.last_status_code,
            last_latency_ms = excluded.last_latency_ms, last_response_body = excluded.last_response_body,
            last_error = excluded.last_error,
            first_failed_at = CASE WHEN d.delivered_at IS NULL AND NOT $8 THEN COALESCE(d.first_failed_at, now())
                                   ELSE d.first_failed_at END,
            next_retry_at = CASE WHEN $8 OR d.delivered_at IS NOT NULL THEN NULL ELSE excluded.next_retry_at END,
            delivered_at = COALESCE(d.delivered_at, excluded.delivered_at),
            updated_at = now()
     RETURNING ${DELIVERY_COLUMNS}`,
    [
      endpointId,
      attempt.eventId,
      attempt.type,
      attempt.status,
      attempt.latencyMs,
      attempt.body,
      attempt.error,
      attempt.ok,
      attempt.nextRetryAt,
    ],
  );
  return rows[0]!;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  attempts: number;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_response_body: string | null;
  last_error: string | null;
  first_failed_at: Date | null;
  next_retry_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const DELIVERY_COLUMNS = `id, endpoint_id, event_id, event_type, attempts, last_status_code, last_latency_ms,
  last_response_body, last_error, first_failed_at, next_retry_at, delivered_at, created_at, updated_at`;

export async function findDelivery(db: Queryable, endpointId: string, id: string) {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 AND id = $2`,
    [endpointId, id],
  );
  return rows[0];
}

/** Newest first, after the delivery `before` (exclusive). */
export async function listDeliveries(db: Queryable, endpointId: string, before: string | null, limit: number) {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
      WHERE endpoint_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [endpointId, before, limit],
  );
  return rows;
}

/** Events of `ids` already delivered to the endpoint (by a retry from the log). */
export async function deliveredAmong(db: Queryable, endpointId: string, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ event_id: string }>(
    `SELECT event_id::text FROM webhook_deliveries
      WHERE endpoint_id = $1 AND event_id = ANY($2::bigint[]) AND delivered_at IS NOT NULL`,
    [endpointId, ids],
  );
  return new Set(rows.map((row) => row.event_id));
}

export async function enabledEndpointIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id::text FROM webhook_endpoints WHERE enabled');
  return rows.map((row) => row.id);
}

/** Disables an endpoint that keeps failing; returns it as it was, or nothing if it was not enabled. */
export async function disableFailing(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_endpoints SET enabled = false, disabled_at = now(), disabled_reason = 'failing', updated_at = now()
      WHERE id = $1 AND enabled`,
    [id],
  );
  return rowCount === 1;
}

export async function adminEmails(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ email: string }>(
    `SELECT email FROM operators WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id`,
  );
  return rows.map((row) => row.email);
}

/** An endpoint enabled again gets a whole WEBHOOK_RETRY_FOR for the events it failed on. */
export async function forgetFailures(db: Queryable, endpointId: string): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries SET first_failed_at = NULL, next_retry_at = NULL
      WHERE endpoint_id = $1 AND delivered_at IS NULL`,
    [endpointId],
  );
}
