import type { Queryable } from '../db/pool';

export interface CustomerRow {
  id: string;
  email: string | null;
  name: string | null;
  blocked_at: Date | null;
  blocked_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ProfileRow extends CustomerRow {
  points: { account: string; balance: number }[];
  offers: { id: string; offer_id: string; name: string; claim_id: string | null; issued_at: string }[];
  tags: string[];
  locked_out_until: Date | null;
}

const CUSTOMER = 'id, email, name, blocked_at, blocked_reason, created_at, updated_at';

/** The new row, or nothing when the id is already registered. */
export async function insertCustomer(db: Queryable, id: string, fields: { email: string | null; name: string | null }) {
  const { rows } = await db.query<CustomerRow>(
    `INSERT INTO customers (id, email, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING ${CUSTOMER}`,
    [id, fields.email, fields.name],
  );
  return rows[0];
}

export async function findCustomer(db: Queryable, id: string, forUpdate = false) {
  const { rows } = await db.query<CustomerRow>(
    `SELECT ${CUSTOMER} FROM customers WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

/** Sets the fields present in `changes`; a field left out keeps its value. */
export async function updateCustomer(
  db: Queryable,
  id: string,
  changes: { email?: string | null; name?: string | null },
) {
  const { rows } = await db.query<CustomerRow>(
    `UPDATE customers SET email = CASE WHEN $2 THEN $3 ELSE email END,
                          name = CASE WHEN $4 THEN $5 ELSE name END,
                          updated_at = now()
      WHERE id = $1 RETURNING ${CUSTOMER}`,
    [id, 'email' in changes, changes.email ?? null, 'name' in changes, changes.name ?? null],
  );
  return rows[0];
}

/** Blocks a customer who is not blocked yet; nothing when unknown or already blocked. */
export async function block(db: Queryable, id: string, reason: string | null) {
  const { rows } = await db.query<CustomerRow>(
    `UPDATE customers SET blocked_at = now(), blocked_reason = $2, updated_at = now()
      WHERE id = $1 AND blocked_at IS NULL RETURNING ${CUSTOMER}`,
    [id, reason],
  );
  return rows[0];
}

/** Unblocks a blocked customer; nothing when unknown or not blocked. */
export async function unblock(db: Queryable, id: string) {
  const { rows } = await db.query<CustomerRow>(
    `UPDATE customers SET blocked_at = NULL, blocked_reason = NULL, updated_at = now()
      WHERE id = $1 AND blocked_at IS NOT NULL RETURNING ${CUSTOMER}`,
    [id],
  );
  return rows[0];
}

/**
 * Ends a lockout and restarts the count of unknown codes from now. Returns the lockout that
 * was running, if any.
 */
export async function clearLockout(db: Queryable, id: string) {
  const { rows } = await db.query<{ locked_until: Date | null }>(
    `UPDATE customers c SET locked_until = NULL, lockout_cleared_at = now()
       FROM (SELECT id, locked_until FROM customers WHERE id = $1 FOR UPDATE) old
      WHERE c.id = old.id
     RETURNING CASE WHEN old.locked_until > now() THEN old.locked_until END AS locked_until`,
    [id],
  );
  return rows[0];
}

// Orders use the "C" collation so that accounts and tags sort the same on every server.
// Issued-offer times are formatted in SQL as ISO 8601 UTC, as every other timestamp is.
export async function findProfile(db: Queryable, id: string) {
  const { rows } = await db.query<ProfileRow>(
    `SELECT c.id, c.email, c.name, c.blocked_at, c.blocked_reason, c.created_at, c.updated_at,
            CASE WHEN c.locked_until > now() THEN c.locked_until END AS locked_out_until,
            COALESCE((SELECT json_agg(json_build_object('account', b.account_key, 'balance', b.balance)
                                      ORDER BY b.account_key COLLATE "C")
                        FROM (SELECT account_key, sum(amount) AS balance
                                FROM points_ledger WHERE customer_id = c.id
                               GROUP BY account_key) b), '[]'::json) AS points,
            COALESCE((SELECT json_agg(json_build_object(
                               'id', io.id::text, 'offer_id', io.offer_id, 'name', o.name,
                               'claim_id', io.claim_id::text,
                               'issued_at', to_char(io.issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                               ORDER BY io.issued_at, io.id)
                        FROM issued_offers io JOIN offers o ON o.id = io.offer_id
                       WHERE io.customer_id = c.id AND io.revoked_at IS NULL), '[]'::json) AS offers,
            ARRAY(SELECT tag FROM customer_tags WHERE customer_id = c.id ORDER BY tag COLLATE "C") AS tags
       FROM customers c
      WHERE c.id = $1`,
    [id],
  );
  return rows[0];
}
