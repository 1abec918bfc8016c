-- List counters in SQL: the claim, code and cancel counts of a list, split over counter slots
-- so that concurrent writers to one list touch different rows (docs/architecture.md, "Caps
-- without a queue"). With src/lists/counters.ts, the one owner of the slot rules: the claim
-- function and every other writer go through these functions or that module. Applied after
-- the numbered migrations, and again whenever this file changes (src/db/migrate.ts).

-- Counter rows per list. counters.ts has the same figure (COUNTER_SLOTS); a test checks both.
CREATE OR REPLACE FUNCTION list_counter_slots() RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 32 $$;

-- A new list's counter rows; slot 0 also counts the list's codes and cancels.
CREATE OR REPLACE FUNCTION create_list_counters(p_list bigint, p_codes bigint) RETURNS void LANGUAGE sql AS $$
  INSERT INTO list_counters (list_id, slot, codes)
  SELECT p_list, s, CASE WHEN s = 0 THEN p_codes ELSE 0 END FROM generate_series(0, list_counter_slots() - 1) s
$$;

-- A list's claims: the sum over its slots.
CREATE OR REPLACE FUNCTION list_claim_count(p_list bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(sum(claims), 0) FROM list_counters WHERE list_id = p_list);
END
$$;

-- Counts one claim: takes one unit of a slot and returns the slot, or NULL when the cap is
-- reached. Starts at `p_slot` (a batch lane's), else at this connection's; on a capped list,
-- when that slot's quota is used up, moves to a slot that still has room, until none has. The
-- search locks nothing, so a lone claim never holds one slot while it waits for another. The
-- quota is read by the UPDATE itself (NULL = uncapped), so a cap set or lifted while the claim
-- was in flight is honoured.
CREATE OR REPLACE FUNCTION take_claim_unit(p_list bigint, p_slot integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_slot  integer := coalesce(p_slot, pg_backend_pid()) % list_counter_slots();
  v_tries integer := 0;
BEGIN
  LOOP
    UPDATE list_counters SET claims = claims + 1
     WHERE list_id = p_list AND slot = v_slot AND (quota IS NULL OR claims < quota);
    IF FOUND THEN RETURN v_slot; END IF;
    SELECT slot INTO v_slot FROM list_counters
     WHERE list_id = p_list AND (quota IS NULL OR claims < quota) ORDER BY random() LIMIT 1;
    v_tries := v_tries + 1;
    IF NOT FOUND OR v_tries > 64 THEN RETURN NULL; END IF;
  END LOOP;
END
$$;

-- Gives back the unit a claim took in `p_slot` (a reversal, or a claim that lost a race after
-- counting itself).
CREATE OR REPLACE FUNCTION give_back_claim_unit(p_list bigint, p_slot integer) RETURNS void LANGUAGE sql AS $$
  UPDATE list_counters SET claims = claims - 1 WHERE list_id = p_list AND slot = p_slot
$$;

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
                      ELSE c.claims + (l.cap - c.total) / c.n
                           + CASE WHEN c.i < (l.cap - c.total) % c.n THEN 1 ELSE 0 END
                 END
    FROM c, l
   WHERE lc.list_id = p_list AND lc.slot = c.slot
$$;
