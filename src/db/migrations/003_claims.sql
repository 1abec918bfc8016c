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

-- Shares out each capped list's cap over its slots: each slot keeps its claims and gets an
-- equal part of the rest (what spread_list_cap, src/lists/lists.functions.sql, does for one list).
WITH c AS (
  SELECT lc.list_id, lc.slot, lc.claims, l.redemption_cap AS cap,
         (sum(lc.claims) OVER w)::bigint AS total, count(*) OVER w AS n,
         row_number() OVER (PARTITION BY lc.list_id ORDER BY lc.slot) - 1 AS i
    FROM list_counters lc JOIN lists l ON l.id = lc.list_id
   WHERE l.redemption_cap IS NOT NULL
  WINDOW w AS (PARTITION BY lc.list_id))
UPDATE list_counters lc
   SET quota = c.claims + (c.cap - c.total) / c.n + CASE WHEN c.i < (c.cap - c.total) % c.n THEN 1 ELSE 0 END
  FROM c
 WHERE lc.list_id = c.list_id AND lc.slot = c.slot;

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


-- The claim rules (claim_code) are in src/claims/claims.functions.sql.
