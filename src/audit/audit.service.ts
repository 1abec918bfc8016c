// The audit log: every change made by an admin or agent, with who, what, before and after.
// Written in the same transaction as the change it describes.
import type { Queryable, Tx } from '../db/pool';
import { decodeCursor, page } from '../http/pagination';

export interface AuditContext {
  actor: string;
  requestId: string | null;
}

export interface AuditEvent {
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

export async function recordAudit(tx: Tx, ctx: AuditContext, event: AuditEvent): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      ctx.actor,
      event.action,
      event.entityType,
      event.entityId,
      event.before === undefined ? null : JSON.stringify(event.before),
      event.after === undefined ? null : JSON.stringify(event.after),
      ctx.requestId,
    ],
  );
}

export interface AuditRow {
  id: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  created_at: Date;
}

export interface AuditQuery {
  entity_type?: string;
  entity_id?: string;
  actor?: string;
  limit: number;
  cursor?: string;
}

/** Newest first. */
export async function listAudit(db: Queryable, query: AuditQuery) {
  const before = decodeCursor(query.cursor, ['id'])?.[0] ?? null;
  const { rows } = await db.query<AuditRow>(
    `SELECT id, actor, action, entity_type, entity_id, before, after, request_id, created_at
       FROM audit_log
      WHERE ($1::text IS NULL OR entity_type = $1)
        AND ($2::text IS NULL OR entity_id = $2)
        AND ($3::text IS NULL OR actor = $3)
        AND ($4::bigint IS NULL OR id < $4)
      ORDER BY id DESC
      LIMIT $5`,
    [query.entity_type ?? null, query.entity_id ?? null, query.actor ?? null, before, query.limit + 1],
  );
  return page(rows, query.limit, (row) => [row.id]);
}

/** The latest audit events on any of the given entities, newest first. */
export async function auditOfEntities(
  db: Queryable,
  entities: { type: string; id: string }[],
  limit: number,
): Promise<AuditRow[]> {
  if (!entities.length) return [];
  const { rows } = await db.query<AuditRow>(
    `SELECT a.id, a.actor, a.action, a.entity_type, a.entity_id, a.before, a.after, a.request_id, a.created_at
       FROM unnest($1::text[], $2::text[]) e(type, id)
       CROSS JOIN LATERAL (
             SELECT * FROM audit_log WHERE entity_type = e.type AND entity_id = e.id ORDER BY id DESC LIMIT $3) a
      ORDER BY a.id DESC LIMIT $3`,
    [entities.map((e) => e.type), entities.map((e) => e.id), limit],
  );
  return rows;
}
