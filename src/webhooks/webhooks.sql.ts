import type { Queryable } from '../db/pool';

export interface WebhookEndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  secret_version: number;
  previous_secret_version: number | null;
  secret_rotated_at: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, url, events, description, enabled, secret_version, previous_secret_version, secret_rotated_at,
  disabled_at, disabled_reason, created_by, created_at, updated_at`;

export async function insertEndpoint(
  db: Queryable,
  endpoint: { url: string; events: string[]; description: string | null; enabled: boolean; createdBy: string },
): Promise<WebhookEndpointRow> {
  const { rows } = await db.query<WebhookEndpointRow>(
    // The cursor starts after the last event delivery could read now: only later changes are sent.
    `INSERT INTO webhook_endpoints (url, events, description, enabled, disabled_at, disabled_reason, created_by,
                                    cursor_xid, cursor_id)
     SELECT $1, $2, $3, $4, CASE WHEN $4 THEN NULL ELSE now() END, CASE WHEN $4 THEN NULL ELSE 'manual' END, $5,
            COALESCE(last.xid, '0'), COALESCE(last.id, 0)
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT xid, id FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
                           ORDER BY xid DESC, id DESC LIMIT 1) last ON true
     RETURNING ${COLUMNS}`,
    [endpoint.url, endpoint.events, endpoint.description, endpoint.enabled, endpoint.createdBy],
  );
  return rows[0]!;
}

export async function findEndpoint(db: Queryable, id: string, forUpdate = false) {
  const { rows } = await db.query<WebhookEndpointRow>(
    `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function listEndpoints(db: Queryable, after: string | null, limit: number) {
  const { rows } = await db.query<WebhookEndpointRow>(
    `SELECT ${COLUMNS} FROM webhook_endpoints WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return rows;
}

/** Applies the given changes; disabling records when and why ('manual'), enabling clears both. */
export async function updateEndpoint(
  db: Queryable,
  id: string,
  changes: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
): Promise<WebhookEndpointRow> {
  const { rows } = await db.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints
        SET url = COALESCE($2, url),
            events = COALESCE($3, events),
            description = CASE WHEN $4 THEN $5 ELSE description END,
            enabled = COALESCE($6, enabled),
            disabled_at = CASE WHEN $6 IS NULL OR $6 = enabled THEN disabled_at WHEN $6 THEN NULL ELSE now() END,
            disabled_reason = CASE WHEN $6 IS NULL OR $6 = enabled THEN disabled_reason
                                   WHEN $6 THEN NULL ELSE 'manual' END,
            updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      changes.url ?? null,
      changes.events ?? null,
      'description' in changes,
      changes.description ?? null,
      changes.enabled ?? null,
    ],
  );
  return rows[0]!;
}

/** A new secret version; the one it replaces keeps signing for a while (webhooks/secrets.ts). */
export async function rotateSecret(db: Queryable, id: string): Promise<WebhookEndpointRow> {
  const { rows } = await db.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints
        SET previous_secret_version = secret_version, secret_version = secret_version + 1,
            secret_rotated_at = now(), updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0]!;
}

export async function deleteEndpoint(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
}
