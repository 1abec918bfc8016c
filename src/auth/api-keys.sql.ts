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
    `INSERT INTO api_keys (name, role, key_hash, key_prefix, created_by) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${COLUMNS}`,
    [key.name, key.role, key.hash, key.prefix, key.createdBy],
  );
  return rows[0]!;
}

/** Inserts or un-revokes the key with this SHA-256, with the given role. */
export async function upsertApiKey(
  db: Queryable,
  key: { name: string; role: string; hash: string; prefix: string },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO api_keys (name, role, key_hash, key_prefix, created_by) VALUES ($1, $2, $3, $4, 'system')
     ON CONFLICT (key_hash) DO UPDATE SET role = EXCLUDED.role, revoked_at = NULL RETURNING id`,
    [key.name, key.role, key.hash, key.prefix],
  );
  return rows[0]!.id;
}

// Chosen secrets (ADMIN_API_KEY) are stored as `scrypt$…` (operators/passwords.ts); generated
// ones as 64 hex digits. The ADMIN_API_KEY rows are the ones created by 'system'.

/** Keys with a chosen secret, with their stored hash to verify against: a handful at most. */
export async function findChosenKeys(
  db: Queryable,
  activeOnly: boolean,
): Promise<(ApiKeyRow & { key_hash: string })[]> {
  const { rows } = await db.query<ApiKeyRow & { key_hash: string }>(
    `SELECT ${COLUMNS}, key_hash FROM api_keys
     WHERE key_hash LIKE 'scrypt$%' AND (NOT $1 OR revoked_at IS NULL) ORDER BY id`,
    [activeOnly],
  );
  return rows;
}

/** Un-revokes a key and gives it `role`. */
export async function restoreKey(db: Queryable, id: string, role: string): Promise<void> {
  await db.query('UPDATE api_keys SET role = $2, revoked_at = NULL WHERE id = $1', [id, role]);
}

/** Replaces the SHA-256 of an ADMIN_API_KEY stored by an older version with `stored`, restoring the key as admin. */
export async function rehashKey(db: Queryable, sha256: string, stored: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE api_keys SET key_hash = $2, role = 'admin', revoked_at = NULL
     WHERE key_hash = $1 AND created_by = 'system' RETURNING id`,
    [sha256, stored],
  );
  return rows[0]?.id;
}

/** Gives every ADMIN_API_KEY row the label as its prefix: older versions stored the secret's start. */
export async function relabelBootstrapKeys(db: Queryable, label: string): Promise<void> {
  await db.query(`UPDATE api_keys SET key_prefix = $1 WHERE created_by = 'system' AND key_prefix <> $1`, [label]);
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
