-- The claim rules: the one live definition of claim_code and claim_codes. Applied after the
-- numbered migrations, and again whenever this file changes (src/db/migrate.ts, "repeatable
-- SQL"), with CREATE OR REPLACE. A change of a function's arguments or result needs a
-- DROP FUNCTION IF EXISTS of the old signature above its new definition.

-- A customer's live claims in the claim-limit periods that end at `p_at`: the rolling week
-- (7 days), month and year. The claim checks the limits with it; troubleshoot shows it.
CREATE OR REPLACE FUNCTION customer_claims_in_periods(p_customer text, p_at timestamptz,
                                                      OUT week bigint, OUT month bigint, OUT year bigint)
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
  SELECT count(*) FILTER (WHERE claimed_at > p_at - interval '7 days'),
         count(*) FILTER (WHERE claimed_at > p_at - interval '1 month'),
         count(*)
    INTO week, month, year
    FROM claims
   WHERE customer_id = p_customer AND reversed_at IS NULL AND claimed_at > p_at - interval '1 year';
END $$;

-- The unknown-code attempts that count towards a customer's lockout at `p_at`: those in the
-- window, and since an agent last cleared a lockout.
CREATE OR REPLACE FUNCTION customer_unknown_codes(p_customer text, p_window interval, p_cleared_at timestamptz,
                                                  p_at timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
  RETURN (SELECT count(*) FROM attempts
           WHERE customer_id = p_customer AND reason = 'code_not_found'
             AND at > greatest(p_at - p_window, coalesce(p_cleared_at, '-infinity')));
END $$;

-- The claim rules of docs/product.md, in order, first failure wins. One function serves three
-- callers so that they can never disagree:
--   'verdict'  — what a claim would return now; reads only (troubleshoot).
--   'validate' — the verdict, recorded as an attempt (POST /claims/validate).
--   'claim'    — the verdict, then the claim and its whole outcome (POST /claims).
-- Returns {"error": reason, ...} or, on success, {"claim": {...}} / {"valid": true, ...}.
-- The checks read committed state; the writes then re-check the contended conditions
-- atomically (a conditional UPDATE of the code row, the unique index on live claims, a
-- conditional UPDATE of a counter slot), so a lost race is answered like any other failure.
--
-- Two settings shape how it runs:
--  * `p_slot`: the counter slot a claim starts at. A batch lane passes its own, so that the
--    lanes never share a slot; a lone claim passes NULL and starts at its connection's.
--  * `enable_seqscan = off`. PL/pgSQL caches each statement's plan per connection. A plan
--    made while `claims`, `attempts` or `list_counters` held a handful of rows is a
--    sequential scan, and it stays cached as those tables grow: a fresh service measured
--    15 ms for one multi-use claim's "already claimed by this customer" check once `claims`
--    held 23k rows, where the index answers in microseconds. Every statement here is a
--    lookup by key, so sequential scans are ruled out.
CREATE OR REPLACE FUNCTION claim_code(p_kind text, p_code text, p_customer text,
                                      p_lockout_threshold integer, p_lockout_window interval,
                                      p_lockout_duration interval,
                                      p_slot integer DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_customer  customers%ROWTYPE;
  v_code      codes%ROWTYPE;
  v_list      lists%ROWTYPE;
  v_limits    jsonb;
  v_reason    text;
  v_extra     jsonb := '{}';
  v_count     bigint;
  v_week      bigint;
  v_month     bigint;
  v_year      bigint;
  v_slot      integer;
  v_claim_id  bigint;
  v_offers    jsonb;
  v_outcome   jsonb;
  v_claim     jsonb;
  v_now       timestamptz := now();
BEGIN
  SELECT value INTO v_limits FROM settings WHERE key = 'claim_limits';
  -- With limits in force a customer's claims are serialized on their row, so that a burst
  -- of parallel claims by one customer is counted exactly.
  IF p_kind = 'claim' AND v_limits IS NOT NULL THEN
    SELECT * INTO v_customer FROM customers WHERE id = p_customer FOR UPDATE;
  ELSE
    SELECT * INTO v_customer FROM customers WHERE id = p_customer;
  END IF;

  <<checks>>
  BEGIN
    IF v_customer.id IS NULL THEN v_reason := 'customer_not_found'; EXIT checks; END IF;
    IF v_customer.blocked_at IS NOT NULL THEN v_reason := 'customer_blocked'; EXIT checks; END IF;
    IF v_customer.locked_until > v_now THEN
      v_reason := 'customer_locked_out';
      v_extra := jsonb_build_object('locked_until', v_customer.locked_until);
      EXIT checks;
    END IF;

    SELECT * INTO v_code FROM codes WHERE code = p_code;
    IF v_code.code IS NULL THEN
      v_reason := 'code_not_found';
      IF p_kind = 'verdict' THEN EXIT checks; END IF;
      -- Unknown codes count towards a lockout. This customer's unknown-code attempts are
      -- serialized on their row, so exactly `threshold` of them get through before the lock.
      SELECT * INTO v_customer FROM customers WHERE id = p_customer FOR UPDATE;
      IF v_customer.locked_until > v_now THEN
        v_reason := 'customer_locked_out';
        v_extra := jsonb_build_object('locked_until', v_customer.locked_until);
        EXIT checks;
      END IF;
      INSERT INTO attempts (kind, code, customer_id, reason, at) VALUES (p_kind, p_code, p_customer, v_reason, v_now);
      v_count := customer_unknown_codes(p_customer, p_lockout_window, v_customer.lockout_cleared_at, v_now);
      IF v_count >= p_lockout_threshold THEN
        UPDATE customers SET locked_until = v_now + p_lockout_duration WHERE id = p_customer;
        -- Recorded, so that the lockout stays in the customer's history after it is cleared.
        INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after)
        VALUES ('system:lockout', 'customer.lockout', 'customer', p_customer,
                jsonb_build_object('unknown_codes', v_count),
                jsonb_build_object('locked_out_until', v_now + p_lockout_duration));
        -- The outbox (src/events/events.ts): the customer as GET /v1/customers/{id} shows them.
        PERFORM record_event('customer.locked_out', customer_profile(p_customer));
      END IF;
      RETURN jsonb_build_object('error', v_reason);
    END IF;

    SELECT * INTO v_list FROM lists WHERE id = v_code.list_id;
    IF v_now < v_list.starts_at THEN v_reason := 'list_not_started'; EXIT checks; END IF;
    IF v_list.ends_at <= v_now THEN v_reason := 'list_ended'; EXIT checks; END IF;
    IF v_list.redemption_cap IS NOT NULL THEN
      IF list_claim_count(v_list.id) >= v_list.redemption_cap THEN v_reason := 'list_cap_reached'; EXIT checks; END IF;
    END IF;
    IF v_code.cancelled_at IS NOT NULL THEN v_reason := 'code_cancelled'; EXIT checks; END IF;
    IF v_list.type <> 'multi_use' AND v_code.claimed_by IS NOT NULL THEN
      v_reason := 'code_already_claimed'; EXIT checks;
    END IF;
    IF v_list.type = 'multi_use'
       AND EXISTS (SELECT 1 FROM claims WHERE code = p_code AND customer_id = p_customer AND reversed_at IS NULL) THEN
      v_reason := 'already_claimed_by_customer'; EXIT checks;
    END IF;
    IF v_limits IS NOT NULL THEN
      SELECT week, month, year INTO v_week, v_month, v_year FROM customer_claims_in_periods(p_customer, v_now);
      v_extra := CASE
        WHEN v_week >= (v_limits->>'per_week')::bigint
          THEN jsonb_build_object('period', 'week', 'limit', (v_limits->>'per_week')::bigint)
        WHEN v_month >= (v_limits->>'per_month')::bigint
          THEN jsonb_build_object('period', 'month', 'limit', (v_limits->>'per_month')::bigint)
        WHEN v_year >= (v_limits->>'per_year')::bigint
          THEN jsonb_build_object('period', 'year', 'limit', (v_limits->>'per_year')::bigint)
        ELSE '{}' END;
      IF v_extra <> '{}' THEN v_reason := 'customer_limit_reached'; EXIT checks; END IF;
    END IF;
  END checks;

  IF p_kind = 'verdict' THEN
    RETURN jsonb_strip_nulls(jsonb_build_object('error', v_reason, 'list_id', v_list.id::text)) || v_extra;
  END IF;

  IF v_reason IS NULL AND p_kind = 'claim' THEN
    <<take>>
    BEGIN
      -- Count the claim first (src/lists/counters.functions.sql): take one unit of a counter
      -- slot before anything else is written, so that a full list costs no undo.
      v_slot := take_claim_unit(v_list.id, p_slot);
      IF v_slot IS NULL THEN v_reason := 'list_cap_reached'; EXIT take; END IF;

      IF v_list.type <> 'multi_use' THEN
        UPDATE codes SET claimed_by = p_customer, claimed_at = v_now
         WHERE code = p_code AND claimed_by IS NULL AND cancelled_at IS NULL;
        IF NOT FOUND THEN
          SELECT * INTO v_code FROM codes WHERE code = p_code;
          v_reason := CASE WHEN v_code.cancelled_at IS NOT NULL THEN 'code_cancelled' ELSE 'code_already_claimed' END;
        END IF;
      END IF;

      IF v_reason IS NULL THEN
        v_claim_id := nextval('attempt_ids');
        -- Issued offer ids are drawn first so that the claim row carries its whole outcome.
        IF v_list.outcome ? 'offers' THEN
          SELECT jsonb_agg(nextval('issued_offers_id_seq')::text)
            INTO v_offers FROM jsonb_array_elements(v_list.outcome->'offers');
        END IF;
        v_outcome := jsonb_strip_nulls(jsonb_build_object(
          'points', v_list.outcome->'points', 'offers', v_offers, 'tags', v_list.outcome->'tags'));
        INSERT INTO claims (id, code, list_id, customer_id, slot, outcome, claimed_at)
        VALUES (v_claim_id, p_code, v_list.id, p_customer, v_slot, v_outcome, v_now)
        ON CONFLICT (code, customer_id) WHERE reversed_at IS NULL DO NOTHING;
        IF NOT FOUND THEN v_reason := 'already_claimed_by_customer'; END IF;
      END IF;

      IF v_reason IS NOT NULL THEN
        -- Lost a race after counting the claim: give the unit back.
        PERFORM give_back_claim_unit(v_list.id, v_slot);
        EXIT take;
      END IF;

      IF v_list.outcome ? 'points' THEN
        INSERT INTO points_ledger (customer_id, account_key, source_key, amount, claim_id, created_at)
        VALUES (p_customer, v_list.outcome->'points'->>'account', v_list.outcome->'points'->>'source',
                (v_list.outcome->'points'->>'amount')::bigint, v_claim_id, v_now);
      END IF;
      IF v_offers IS NOT NULL THEN
        INSERT INTO issued_offers (id, customer_id, offer_id, claim_id, issued_at)
        OVERRIDING SYSTEM VALUE
        SELECT o.id::bigint, p_customer, l.offer, v_claim_id, v_now
          FROM jsonb_array_elements_text(v_offers) WITH ORDINALITY o(id, n)
          JOIN jsonb_array_elements_text(v_list.outcome->'offers') WITH ORDINALITY l(offer, n) USING (n);
      END IF;
      IF v_list.outcome ? 'tags' THEN
        -- Tags the customer already has stay theirs: the claim marks only the ones it added.
        INSERT INTO customer_tags (customer_id, tag, claim_id, added_at)
        SELECT p_customer, t, v_claim_id, v_now FROM jsonb_array_elements_text(v_list.outcome->'tags') t ORDER BY t
        ON CONFLICT DO NOTHING;
      END IF;
    END take;
  END IF;

  -- A successful claim is its own record of the attempt.
  IF v_reason IS NOT NULL OR p_kind = 'validate' THEN
    INSERT INTO attempts (kind, code, customer_id, list_id, reason, at)
      VALUES (p_kind, p_code, p_customer, v_list.id, v_reason, v_now);
  END IF;

  IF v_reason IS NOT NULL THEN
    RETURN jsonb_strip_nulls(jsonb_build_object('error', v_reason, 'list_id', v_list.id::text)) || v_extra;
  END IF;
  IF p_kind = 'validate' THEN
    RETURN jsonb_build_object('valid', true, 'list_id', v_list.id::text, 'outcome', v_list.outcome);
  END IF;
  -- The claim as POST /v1/claims answers it, its time as the API writes times (ISO 8601 UTC,
  -- milliseconds). The event (src/events/events.ts) carries it as GET /v1/claims/{id} shows
  -- it: the same fields with the list's name and type and the claim's (empty) reversal.
  v_claim := jsonb_build_object(
    'id', v_claim_id::text, 'code', p_code, 'list_id', v_list.id::text, 'customer_id', p_customer,
    'claimed_at', api_time(v_now), 'outcome', v_outcome);
  PERFORM record_event('claim.created', v_claim || jsonb_build_object(
    'list_name', v_list.name, 'list_type', v_list.type, 'reversed', false,
    'reversed_at', NULL, 'reversal_reason', NULL, 'reversed_by', NULL));
  RETURN jsonb_build_object('claim', v_claim);
END
$$;


-- Several claims (or validations) in one statement and one transaction, each by the very
-- rules of claim_code, in the order given; the answers come back in that order. Most of a
-- lone claim's cost is the statement and the transaction around it (a commit, a snapshot, a
-- round trip), so under load the service sends the claims that queued up while earlier
-- ones were running as one batch (src/claims/batcher.ts).
--
-- Each element runs as it would on its own: every statement of claim_code takes a fresh
-- snapshot and also sees what the elements before it wrote, so two claims of one code in a
-- batch are answered exactly as two claims one after the other. What changes is that the
-- locks an element takes are held until the whole batch commits. So a batch gives up, and
-- rolls back whole, when it has to wait for a lock longer than `lock_timeout` (55P03), on a
-- deadlock (40P01), or when it has run for more than half a second (57014); the service then
-- runs its elements one by one. A batch never waits long behind another transaction, and a
-- wait that would be a deadlock is cut short.
CREATE OR REPLACE FUNCTION claim_codes(p_kind text, p_codes text[], p_customers text[],
                                       p_lockout_threshold integer, p_lockout_window interval,
                                       p_lockout_duration interval,
                                       p_slot integer)
RETURNS jsonb LANGUAGE plpgsql SET lock_timeout = '200ms' AS $$
DECLARE
  v_results jsonb[] := '{}';
BEGIN
  IF p_kind NOT IN ('claim', 'validate') OR cardinality(p_codes) IS DISTINCT FROM cardinality(p_customers) THEN
    RAISE EXCEPTION 'claim_codes: a batch is claims or validations, with one customer per code';
  END IF;
  FOR i IN 1 .. cardinality(p_codes) LOOP
    IF clock_timestamp() - statement_timestamp() > interval '500 ms' THEN
      RAISE EXCEPTION 'claim batch gave up after 500 ms' USING ERRCODE = 'query_canceled';
    END IF;
    v_results := v_results || claim_code(p_kind, p_codes[i], p_customers[i], p_lockout_threshold, p_lockout_window,
                                         p_lockout_duration, p_slot);
  END LOOP;
  RETURN to_jsonb(v_results);
END
$$;
