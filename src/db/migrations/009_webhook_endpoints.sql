-- Webhook endpoints (docs/product.md, "Webhooks"): where events are sent and which ones. The
-- signing secret is derived from WEBHOOK_KEY, the id and secret_version (webhooks/secrets.ts),
-- so no secret is stored here.

CREATE TABLE webhook_endpoints (
  id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url                      text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
  -- event type names (events/event-types.ts), or '{*}' for every type
  events                   text[] NOT NULL CHECK (cardinality(events) >= 1),
  description              text CHECK (description IS NULL OR char_length(description) <= 2000),
  enabled                  boolean NOT NULL DEFAULT true,
  secret_version           integer NOT NULL DEFAULT 1 CHECK (secret_version >= 1),
  -- the version that still signs for 24 h after a rotation
  previous_secret_version  integer CHECK (previous_secret_version IS NULL OR previous_secret_version < secret_version),
  secret_rotated_at        timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  disabled_at              timestamptz,
  disabled_reason          text,
  created_by               text,
  CHECK (enabled = (disabled_at IS NULL)),
  CHECK (disabled_reason IS NULL OR disabled_at IS NOT NULL),
  CHECK ((previous_secret_version IS NULL) = (secret_rotated_at IS NULL))
);
-- Delivery finds the enabled endpoints that take an event type.
CREATE INDEX webhook_endpoints_enabled_events ON webhook_endpoints USING gin (events) WHERE enabled;
