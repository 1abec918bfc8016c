-- Claims: the rules of docs/product.md as one database function, so that a claim is one round trip
-- and every invariant is held by rows, locks and constraints rather than by read-then-write
-- in application code.

-- Settings that apply service-wide; `claim_limits` is {per_week?, per_month?, per_year?}.
CREATE TABLE settings (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Lockout: `locked_until` is set when a customer reaches the threshold of unknown codes;
-- clearing it also restarts the count from `lockout_cleared_at`.
ALTER TABLE customers ADD COLUMN locked_until timestamptz, ADD COLUMN lockout_cleared_at timestamptz;

-- Claims, outcomes and attempts are written at thousands per second. Their references to
-- customers, accounts, sources and offers are checked by the claim function; foreign keys
-- would add a KEY SHARE lock on the same few catalog rows to every claim, which turns a hot
-- list into a queue. Catalog rows and customers are never deleted, so nothing can dangle.
ALTER TABLE points_ledger DROP CONSTRAINT points_ledger_customer_id_fkey,
  DROP CONSTRAINT points_ledger_account_key_fkey, DROP CONSTRAINT points_ledger_source_key_fkey;
ALTER TABLE issued_offers DROP CONSTRAINT issued_offers_customer_id_fkey, DROP CONSTRAINT issued_offers_offer_id_fkey;
ALTER TABLE customer_tags DROP CONSTRAINT customer_tags_customer_id_fkey;
-- A reversal finds what its claim issued through the customer's own rows (ledger, offers and
-- tags are indexed by customer), so claims maintain no extra index for it.

-- Hot lists. A list's claim count lives in CLAIM_SLOTS counter rows, so concurrent claims
-- update different rows. An uncapped list's claim bumps the slot of its connection; a capped
-- list's cap is split into per-slot quotas that add up to the cap, and a claim takes one
-- unit from a slot with room (`claims < quota`, checked by the UPDATE itself). No slot ever
-- passes its quota, so the list never passes its cap, and claims on different slots never
-- wait for each other. See docs/architecture.md, "Caps without a queue".
ALTER TABLE list_counters ADD COLUMN quota bigint;
INSERT INTO list_counters (list_id, slot) SELECT id, s FROM lists, generate_series(1, 31) s ON CONFLICT DO NOTHING;

-- Shares out what is left of a list's cap over its slots: each slot keeps its claims and gets
-- an equal part of the rest. Callers hold the list's counter rows locked (FOR UPDATE).
CREATE FUNCTION spread_list_cap(p_list bigint) RETURNS void LANGUAGE sql AS $$
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
SELECT spread_list_cap(id) FROM lists WHERE redemption_cap IS NOT NULL;

-- Claims and attempts draw ids from one sequence: a successful claim is its own attempt (with
-- the claim's id), so attempts can be read as one stream, newest first, across both tables.
CREATE SEQUENCE attempt_ids;

-- A successful claim and the outcome it issued. `slot` is the counter slot it counted in, so
-- that a reversal gives the use back where it was taken.
CREATE TABLE claims (
  id               bigint PRIMARY KEY DEFAULT nextval('attempt_ids'),
  code             text COLLATE "C" NOT NULL,
  list_id          bigint NOT NULL,
  customer_id      text NOT NULL,
  slot             smallint NOT NULL,
  outcome          jsonb NOT NULL,
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  reversed_at      timestamptz,
  reversal_reason  text,
  reversed_by      text
);
-- One live claim per customer and code: this is what holds "a customer claims a multi-use
-- code at most once" under any concurrency. (A single-use code is held by its own row.)
-- It also finds a code's live claims; reversed ones are few and have their own index. An
-- index on (code, id) would be cheaper to read newest-first, but every claim of a busy
-- multi-use code would insert into its one rightmost page.
CREATE UNIQUE INDEX claims_live ON claims (code, customer_id) WHERE reversed_at IS NULL;
CREATE INDEX claims_reversed ON claims (code) WHERE reversed_at IS NOT NULL;
CREATE INDEX claims_customer ON claims (customer_id, id);

-- Every validate request and every claim that failed, with its reason (null = it succeeded);
-- successful claims are read from `claims`. An append-only log read by customer or by code,
-- so it has no primary key index to maintain.
CREATE TABLE attempts (
  id           bigint NOT NULL DEFAULT nextval('attempt_ids'),
  kind         text NOT NULL CHECK (kind IN ('claim', 'validate')),
  code         text COLLATE "C" NOT NULL,
  customer_id  text NOT NULL,
  list_id      bigint,
  reason       text,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_customer ON attempts (customer_id, id);
CREATE INDEX attempts_code ON attempts (code, id);
CREATE INDEX attempts_unknown_code ON attempts (customer_id, at) WHERE reason = 'code_not_found';

-- Idempotency-Key: the first response to a key, replayed for 24 hours. Scoped to the caller.
CREATE TABLE idempotency_keys (
  principal     text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  status        smallint,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);


-- The claim rules of docs/product.md, in order, first failure wins. One function serves three
-- callers so that they can never disagree:
--   'verdict'  — what a claim would return now; reads only (troubleshoot).
--   'validate' — the verdict, recorded as an attempt (POST /claims/validate).
--   'claim'    — the verdict, then the claim and its whole outcome (POST /claims).
-- Returns {"error": reason, ...} or, on success, {"claim": {...}} / {"valid": true, ...}.
-- The checks read committed state; the writes then re-check the contended conditions
-- atomically (a conditional UPDATE of the code row, the unique index on live claims, a
-- conditional UPDATE of a counter slot), so a lost race is answered like any other failure.
CREATE FUNCTION claim_code(p_kind text, p_code text, p_customer text,
                           p_lockout_threshold integer, p_lockout_window interval, p_lockout_duration interval)
RETURNS jsonb LANGUAGE plpgsql AS $$
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
  v_tries     integer := 0;
  v_claim_id  bigint;
  v_offers    jsonb;
  v_outcome   jsonb;
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
      SELECT count(*) INTO v_count FROM attempts
       WHERE customer_id = p_customer AND reason = 'code_not_found'
         AND at > greatest(v_now - p_lockout_window, coalesce(v_customer.lockout_cleared_at, '-infinity'));
      IF v_count >= p_lockout_threshold THEN
        UPDATE customers SET locked_until = v_now + p_lockout_duration WHERE id = p_customer;
        -- Recorded, so that the lockout stays in the customer's history after it is cleared.
        INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after)
        VALUES ('system:lockout', 'customer.lockout', 'customer', p_customer,
                jsonb_build_object('unknown_codes', v_count),
                jsonb_build_object('locked_out_until', v_now + p_lockout_duration));
      END IF;
      RETURN jsonb_build_object('error', v_reason);
    END IF;

    SELECT * INTO v_list FROM lists WHERE id = v_code.list_id;
    IF v_now < v_list.starts_at THEN v_reason := 'list_not_started'; EXIT checks; END IF;
    IF v_list.ends_at <= v_now THEN v_reason := 'list_ended'; EXIT checks; END IF;
    IF v_list.redemption_cap IS NOT NULL THEN
      SELECT sum(claims) INTO v_count FROM list_counters WHERE list_id = v_list.id;
      IF v_count >= v_list.redemption_cap THEN v_reason := 'list_cap_reached'; EXIT checks; END IF;
    END IF;
    IF v_code.cancelled_at IS NOT NULL THEN v_reason := 'code_cancelled'; EXIT checks; END IF;
    IF v_list.type <> 'multi_use' AND v_code.claimed_by IS NOT NULL THEN v_reason := 'code_already_claimed'; EXIT checks; END IF;
    IF v_list.type = 'multi_use'
       AND EXISTS (SELECT 1 FROM claims WHERE code = p_code AND customer_id = p_customer AND reversed_at IS NULL) THEN
      v_reason := 'already_claimed_by_customer'; EXIT checks;
    END IF;
    IF v_limits IS NOT NULL THEN
      SELECT count(*) FILTER (WHERE claimed_at > v_now - interval '7 days'),
             count(*) FILTER (WHERE claimed_at > v_now - interval '1 month'),
             count(*)
        INTO v_week, v_month, v_year
        FROM claims WHERE customer_id = p_customer AND reversed_at IS NULL AND claimed_at > v_now - interval '1 year';
      v_extra := CASE
        WHEN v_week >= (v_limits->>'per_week')::bigint THEN jsonb_build_object('period', 'week', 'limit', (v_limits->>'per_week')::bigint)
        WHEN v_month >= (v_limits->>'per_month')::bigint THEN jsonb_build_object('period', 'month', 'limit', (v_limits->>'per_month')::bigint)
        WHEN v_year >= (v_limits->>'per_year')::bigint THEN jsonb_build_object('period', 'year', 'limit', (v_limits->>'per_year')::bigint)
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
      -- Count the claim first: take one unit of a counter slot before anything else is
      -- written, so that a full list costs no undo. Start at this connection's own slot; on a
      -- capped list, when that slot's quota is used up, move to any slot that still has room,
      -- until none has. The quota is read by the UPDATE itself (NULL = uncapped), so a cap set
      -- or lifted while this claim was in flight is honoured.
      v_slot := pg_backend_pid() % 32;
      LOOP
        UPDATE list_counters SET claims = claims + 1
         WHERE list_id = v_list.id AND slot = v_slot AND (quota IS NULL OR claims < quota);
        EXIT WHEN FOUND;
        SELECT slot INTO v_slot FROM list_counters
         WHERE list_id = v_list.id AND (quota IS NULL OR claims < quota) ORDER BY random() LIMIT 1;
        v_tries := v_tries + 1;
        IF NOT FOUND OR v_tries > 64 THEN v_reason := 'list_cap_reached'; EXIT take; END IF;
      END LOOP;

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
        UPDATE list_counters SET claims = claims - 1 WHERE list_id = v_list.id AND slot = v_slot;
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
    INSERT INTO attempts (kind, code, customer_id, list_id, reason, at) VALUES (p_kind, p_code, p_customer, v_list.id, v_reason, v_now);
  END IF;

  IF v_reason IS NOT NULL THEN
    RETURN jsonb_strip_nulls(jsonb_build_object('error', v_reason, 'list_id', v_list.id::text)) || v_extra;
  END IF;
  IF p_kind = 'validate' THEN
    RETURN jsonb_build_object('valid', true, 'list_id', v_list.id::text, 'outcome', v_list.outcome);
  END IF;
  RETURN jsonb_build_object('claim', jsonb_build_object(
    'id', v_claim_id::text, 'code', p_code, 'list_id', v_list.id::text, 'customer_id', p_customer,
    'claimed_at', v_now, 'outcome', v_outcome));
END
$$;
