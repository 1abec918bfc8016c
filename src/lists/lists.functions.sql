-- List counters' SQL: the one live definition of spread_list_cap (how a capped list's cap is
-- shared out over its counter slots; docs/architecture.md, "Caps without a queue"). Applied
-- after the numbered migrations, and again whenever this file changes (src/db/migrate.ts).

-- Shares out what is left of a list's cap over its slots: each slot keeps its claims and gets
-- an equal part of the rest. Callers hold the list's counter rows locked (FOR UPDATE).
CREATE OR REPLACE FUNCTION spread_list_cap(p_list bigint) RETURNS void LANGUAGE sql AS $$
  WITH l AS (SELECT redemption_cap AS cap FROM lists WHERE id = p_list),
  c AS (
    SELECT slot, claims, (sum(claims) OVER ())::bigint AS total, count(*) OVER () AS n,
           row_number() OVER (ORDER BY slot) - 1 AS i
      FROM list_counters WHERE list_id = p_list)
  UPDATE list_counters lc
     SET quota = CASE WHEN l.cap IS NULL THEN NULL
                      ELSE c.claims + (l.cap - c.total) / c.n + CASE WHEN c.i < (l.cap - c.total) % c.n THEN 1 ELSE 0 END
                 END
    FROM c, l
   WHERE lc.list_id = p_list AND lc.slot = c.slot
$$;
