import type { Queryable } from '../db/pool';

/** Point accounts and point sources share one shape; the table name is never user input. */
export type PointKindTable = 'point_accounts' | 'point_sources';

export interface PointKindRow {
  key: string;
  name: string;
  created_at: Date;
}

export interface OfferRow {
  id: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function insertPointKind(db: Queryable, table: PointKindTable, key: string, name: string) {
  const { rows } = await db.query<PointKindRow>(
    `INSERT INTO ${table} (key, name) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key, name, created_at`,
    [key, name],
  );
  return rows[0];
}

export async function listPointKinds(db: Queryable, table: PointKindTable, after: string | null, limit: number) {
  const { rows } = await db.query<PointKindRow>(
    `SELECT key, name, created_at FROM ${table} WHERE ($1::text IS NULL OR key > $1) ORDER BY key LIMIT $2`,
    [after, limit],
  );
  return rows;
}

const OFFER = 'id, name, description, created_at, updated_at';

export async function insertOffer(db: Queryable, offer: { id: string; name: string; description: string | null }) {
  const { rows } = await db.query<OfferRow>(
    `INSERT INTO offers (id, name, description) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING ${OFFER}`,
    [offer.id, offer.name, offer.description],
  );
  return rows[0];
}

export async function findOffer(db: Queryable, id: string, forUpdate = false) {
  const { rows } = await db.query<OfferRow>(
    `SELECT ${OFFER} FROM offers WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function updateOffer(db: Queryable, id: string, changes: { name?: string; description?: string | null }) {
  const { rows } = await db.query<OfferRow>(
    `UPDATE offers SET name = COALESCE($2, name),
                       description = CASE WHEN $3 THEN $4 ELSE description END,
                       updated_at = now()
      WHERE id = $1 RETURNING ${OFFER}`,
    [id, changes.name ?? null, 'description' in changes, changes.description ?? null],
  );
  return rows[0]!;
}

export async function listOffers(db: Queryable, after: string | null, limit: number) {
  const { rows } = await db.query<OfferRow>(
    `SELECT ${OFFER} FROM offers WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return rows;
}

/** The referenced keys that do not exist, per kind. */
export async function missingReferences(db: Queryable, refs: { account?: string; source?: string; offers: string[] }) {
  const { rows } = await db.query<{ accounts: string[]; sources: string[]; offers: string[] }>(
    `SELECT
       ARRAY(SELECT a FROM unnest($1::text[]) a
             WHERE NOT EXISTS (SELECT 1 FROM point_accounts WHERE key = a)) AS accounts,
       ARRAY(SELECT s FROM unnest($2::text[]) s
             WHERE NOT EXISTS (SELECT 1 FROM point_sources WHERE key = s)) AS sources,
       ARRAY(SELECT o FROM unnest($3::text[]) o WHERE NOT EXISTS (SELECT 1 FROM offers WHERE id = o)) AS offers`,
    [refs.account ? [refs.account] : [], refs.source ? [refs.source] : [], refs.offers],
  );
  return rows[0]!;
}
