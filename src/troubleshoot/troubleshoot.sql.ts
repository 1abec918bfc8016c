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
            (SELECT count(*) FROM attempts
              WHERE customer_id = c.id AND reason = 'code_not_found'
                AND at > greatest(now() - make_interval(secs => $2),
                                  coalesce(c.lockout_cleared_at, '-infinity')))::int AS unknown_codes,
            k.week AS claims_week, k.month AS claims_month, k.year AS claims_year
       FROM customers c
      CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE claimed_at > now() - interval '7 days')::int AS week,
                   count(*) FILTER (WHERE claimed_at > now() - interval '1 month')::int AS month,
                   count(*)::int AS year
              FROM claims WHERE customer_id = c.id AND reversed_at IS NULL AND claimed_at > now() - interval '1 year') k
      WHERE c.id = $1`,
    [id, windowSeconds],
  );
  return rows[0];
}
