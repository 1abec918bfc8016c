-- Claims in batches, and claim plans that survive a fresh database.

-- PL/pgSQL caches each statement's plan per connection. A plan made while `claims`,
-- `attempts` or `list_counters` held a handful of rows is a sequential scan, and it stays
-- cached as those tables grow: a fresh service measured 15 ms for one multi-use claim's
-- "already claimed by this customer" check once `claims` held 23k rows, where the index
-- answers in microseconds. Every statement of the claim function is a lookup by key, so
-- sequential scans are ruled out inside it.
ALTER FUNCTION claim_code(text, text, text, integer, interval, interval) SET enable_seqscan = off;

-- Several claims (or validations) in one statement and one transaction, each by the very
-- rules of claim_code, in the order given; the answers come back in that order. Most of a
-- lone claim's cost is the statement and the transaction around it (a commit, a snapshot, a
-- round trip), so under load the service sends the claims that queued up while earlier
-- ones were running as one batch (src/claims/batcher.ts).
--
-- Each element runs as it would on its own: every statement of claim_code takes a fresh
-- snapshot and also sees what the elements before it wrote, so two claims of one code in a
-- batch are answered exactly as two claims one after the other. What changes is that the
-- locks an element takes are held until the whole batch commits. A batch that has to wait
-- for a lock longer than `lock_timeout` gives up (SQLSTATE 55P03) and rolls back whole, as
-- it does on a deadlock; the service then runs its elements one by one. So a batch never
-- waits long behind another transaction, and a wait that would be a deadlock is cut short.
CREATE FUNCTION claim_codes(p_kind text, p_codes text[], p_customers text[],
                            p_lockout_threshold integer, p_lockout_window interval, p_lockout_duration interval)
RETURNS jsonb LANGUAGE plpgsql SET lock_timeout = '200ms' AS $$
DECLARE
  v_results jsonb[] := '{}';
BEGIN
  IF p_kind NOT IN ('claim', 'validate') OR cardinality(p_codes) IS DISTINCT FROM cardinality(p_customers) THEN
    RAISE EXCEPTION 'claim_codes: a batch is claims or validations, with one customer per code';
  END IF;
  FOR i IN 1 .. cardinality(p_codes) LOOP
    v_results := v_results || claim_code(p_kind, p_codes[i], p_customers[i], p_lockout_threshold, p_lockout_window, p_lockout_duration);
  END LOOP;
  RETURN to_jsonb(v_results);
END
$$;
