-- A customer's profile as the API returns it (GET /v1/customers/{id}), as JSON: the one
-- definition, read by the service (customers.sql.ts) and by the claim function when a lockout
-- records a customer.locked_out event. Applied after the numbered migrations, and again
-- whenever this file changes (src/db/migrate.ts). Timestamps are ISO 8601 UTC with
-- milliseconds, as in every response; accounts and tags sort in the "C" collation so that
-- they sort the same on every server. NULL for an unknown customer.
CREATE OR REPLACE FUNCTION customer_profile(p_id text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
           'id', c.id, 'email', c.email, 'name', c.name,
           'blocked', c.blocked_at IS NOT NULL,
           'blocked_at', api_time(c.blocked_at),
           'blocked_reason', c.blocked_reason,
           'locked_out_until', CASE WHEN c.locked_until > now()
             THEN api_time(c.locked_until) END,
           'points', COALESCE((SELECT jsonb_agg(jsonb_build_object('account', b.account_key, 'balance', b.balance)
                                                ORDER BY b.account_key COLLATE "C")
                                 FROM (SELECT account_key, sum(amount) AS balance
                                         FROM points_ledger WHERE customer_id = c.id
                                        GROUP BY account_key) b), '[]'),
           'offers', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                        'id', io.id::text, 'offer_id', io.offer_id, 'name', o.name,
                                        'claim_id', io.claim_id::text,
                                        'issued_at', api_time(io.issued_at))
                                        ORDER BY io.issued_at, io.id)
                                 FROM issued_offers io JOIN offers o ON o.id = io.offer_id
                                WHERE io.customer_id = c.id AND io.revoked_at IS NULL), '[]'),
           'tags', to_jsonb(ARRAY(SELECT tag FROM customer_tags WHERE customer_id = c.id ORDER BY tag COLLATE "C")),
           'created_at', api_time(c.created_at),
           'updated_at', api_time(c.updated_at))
    FROM customers c
   WHERE c.id = p_id
$$;
