-- Foundation: catalog, customers and their outcome ledgers, promo code lists and codes,
-- API keys and the audit log.

CREATE TABLE point_accounts (
  key         text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE point_sources (
  key         text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE offers (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id              text PRIMARY KEY,
  email           text,
  name            text,
  blocked_at      timestamptz,
  blocked_reason  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A balance is the sum of a customer's ledger entries for one account.
CREATE TABLE points_ledger (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  text NOT NULL REFERENCES customers (id),
  account_key  text NOT NULL REFERENCES point_accounts (key),
  source_key   text NOT NULL REFERENCES point_sources (key),
  amount       bigint NOT NULL,
  claim_id     bigint,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX points_ledger_customer ON points_ledger (customer_id, account_key);

CREATE TABLE issued_offers (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  text NOT NULL REFERENCES customers (id),
  offer_id     text NOT NULL REFERENCES offers (id),
  claim_id     bigint,
  issued_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX issued_offers_customer ON issued_offers (customer_id);

-- claim_id is the claim that added the tag (null when it came from elsewhere), so that a
-- reversal removes only the tags its claim added.
CREATE TABLE customer_tags (
  customer_id  text NOT NULL REFERENCES customers (id),
  tag          text NOT NULL,
  claim_id     bigint,
  added_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, tag)
);

CREATE TABLE lists (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  description     text,
  type            text NOT NULL CHECK (type IN ('single_use', 'multi_use', 'third_party')),
  starts_at       timestamptz NOT NULL,
  ends_at         timestamptz CHECK (ends_at IS NULL OR ends_at > starts_at),
  redemption_cap  integer CHECK (redemption_cap IS NULL OR redemption_cap > 0),
  outcome         jsonb NOT NULL,
  -- multi_use only: the code as the admin typed it (its normalized form is in codes)
  code_display    text CHECK ((type = 'multi_use') = (code_display IS NOT NULL)),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lists_created_at ON lists (created_at, id);

-- Per-list counters, split into slots so that concurrent writers to one list touch
-- different rows; a list's figure is the sum over its slots.
CREATE TABLE list_counters (
  list_id    bigint NOT NULL REFERENCES lists (id),
  slot       smallint NOT NULL,
  claims     bigint NOT NULL DEFAULT 0,
  codes      bigint NOT NULL DEFAULT 0,
  cancelled  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (list_id, slot)
);

-- Every code of every list, in normalized form; the primary key makes a code unique across
-- the whole service. Kept narrow for bulk generation: the created time is the batch's or
-- import's, and the nullable columns cost nothing until used. "C" collation: codes compare
-- as bytes, which is what they are, and byte comparison is the fastest.
CREATE TABLE codes (
  code           text COLLATE "C" PRIMARY KEY,
  list_id        bigint NOT NULL,
  -- the batch (single_use) or import (third_party) that made the code; 0 for a multi-use code
  source_id      bigint NOT NULL,
  display        text,
  claimed_by     text,
  claimed_at     timestamptz,
  cancelled_at   timestamptz,
  cancel_reason  text
);

CREATE TABLE api_keys (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('admin', 'agent', 'client')),
  key_hash    text NOT NULL UNIQUE,
  key_prefix  text NOT NULL,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor        text NOT NULL,
  action       text NOT NULL,
  entity_type  text NOT NULL,
  entity_id    text NOT NULL,
  before       jsonb,
  after        jsonb,
  request_id   text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
