import type { Queryable } from '../db/pool';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: 'admin' | 'agent' | 'client';
  key_prefix: string;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, role, key_prefix, created_by, created_at, revoked_at';

export async function insertApiKey(
  db: Queryable,
  key: { name: string; role: string; hash: string; prefix: string; createdBy: string | null },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (name, role, key_hash, key_prefix, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [key.name, key.role, key.hash, key.prefix, key.createdBy],
  );
  return rows[0]!;
}

/** Inserts or un-revokes the key with this hash, with the given name and role. */
export async function upsertApiKey(db: Queryable, key: { name: string; role: string; hash: string; prefix: string }) {
  await db.query(
    `INSERT INTO api_keys (name, role, key_hash, key_prefix, created_by) VALUES ($1, $2, $3, $4, 'system')
     ON CONFLICT (key_hash) DO UPDATE SET role = EXCLUDED.role, revoked_at = NULL`,
    [key.name, key.role, key.hash, key.prefix],
  );
}

export async function findActiveKeyByHash(db: Queryable, hash: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  return rows[0];
}

export async function listApiKeys(db: Queryable, after: string | null, limit: number): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return rows;
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

export async function revokeApiKey(db: Queryable, id: string): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0]!;
}
