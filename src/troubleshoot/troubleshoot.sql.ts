import type { Queryable } from '../db/pool';

interface CustomerStateRow {
  id: string;
  blocked_at: Date | null;
  blocked_reason: string | null;
  locked_until: Date | null;
  lockout_cleared_at: Date | null;
  unknown_codes: number;
  claims_week: number;
  claims_month: number;
  claims_year: number;
}

/** A customer's block and lockout state, unknown codes in the lockout window, and claim counts. */
export async function customerState(
  db: Queryable,
  id: string,
  windowSeconds: number,
): Promise<CustomerStateRow | undefined> {
  const { rows } = await db.query<CustomerStateRow>(
    `SELECT c.id, c.blocked_at, c.blocked_reason, c.locked_until, c.lockout_cleared_at,
            customer_unknown_codes(c.id, make_interval(secs => $2), c.lockout_cleared_at, now())::int
              AS unknown_codes,
            k.week::int AS claims_week, k.month::int AS claims_month, k.year::int AS claims_year
       FROM customers c
      CROSS JOIN LATERAL customer_claims_in_periods(c.id, now()) k
      WHERE c.id = $1`,
    [id, windowSeconds],
  );
  return rows[0];
}
