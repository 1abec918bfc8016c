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

/** A customer's profile, timestamps as ISO 8601 text. */
export interface Profile {
  id: string;
  email: string | null;
  name: string | null;
  blocked: boolean;
  blocked_at: string | null;
  blocked_reason: string | null;
  locked_out_until: string | null;
  points: { account: string; balance: number }[];
  offers: { id: string; offer_id: string; name: string; claim_id: string | null; issued_at: string }[];
  tags: string[];
  created_at: string;
  updated_at: string;
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

/** The profile as the API returns it (customer_profile in customers.functions.sql), or nothing. */
export async function findProfile(db: Queryable, id: string) {
  const { rows } = await db.query<{ profile: Profile | null }>('SELECT customer_profile($1) AS profile', [id]);
  return rows[0]?.profile ?? undefined;
}
