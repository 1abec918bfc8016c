// The catalog that outcomes point at: point accounts, point sources and offers.
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { conflict, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import * as sql from './catalog.sql';
import type { CreateOffer, CreatePointKind, UpdateOffer } from './catalog.schema';

const ENTITY: Record<sql.PointKindTable, string> = { point_accounts: 'point_account', point_sources: 'point_source' };

export async function createPointKind(tx: Tx, ctx: AuditContext, table: sql.PointKindTable, input: CreatePointKind) {
  const row = await sql.insertPointKind(tx, table, input.key, input.name);
  if (!row) throw conflict('already_exists', `${ENTITY[table].replace('_', ' ')} "${input.key}" already exists`);
  await recordAudit(tx, ctx, {
    action: `${ENTITY[table]}.create`,
    entityType: ENTITY[table],
    entityId: row.key,
    after: row,
  });
  return row;
}

export async function listPointKinds(
  db: Queryable,
  table: sql.PointKindTable,
  query: { limit: number; cursor?: string },
) {
  const after = (decodeCursor(query.cursor, ['text'])?.[0] as string | undefined) ?? null;
  return page(await sql.listPointKinds(db, table, after, query.limit + 1), query.limit, (row) => [row.key]);
}

export async function createOffer(tx: Tx, ctx: AuditContext, input: CreateOffer) {
  const row = await sql.insertOffer(tx, { id: input.id, name: input.name, description: input.description ?? null });
  if (!row) throw conflict('already_exists', `offer "${input.id}" already exists`);
  await recordAudit(tx, ctx, { action: 'offer.create', entityType: 'offer', entityId: row.id, after: row });
  return row;
}

export async function getOffer(db: Queryable, id: string) {
  const row = await sql.findOffer(db, id);
  if (!row) throw notFound('offer', id);
  return row;
}

export async function updateOffer(tx: Tx, ctx: AuditContext, id: string, changes: UpdateOffer) {
  const before = await sql.findOffer(tx, id, true);
  if (!before) throw notFound('offer', id);
  const after = await sql.updateOffer(tx, id, changes);
  await recordAudit(tx, ctx, { action: 'offer.update', entityType: 'offer', entityId: id, before, after });
  return after;
}

export async function listOffers(db: Queryable, query: { limit: number; cursor?: string }) {
  const after = (decodeCursor(query.cursor, ['text'])?.[0] as string | undefined) ?? null;
  return page(await sql.listOffers(db, after, query.limit + 1), query.limit, (row) => [row.id]);
}
