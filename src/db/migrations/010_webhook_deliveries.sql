-- Webhook delivery (src/webhooks/delivery.job.ts, docs/product.md "Webhooks"). Each endpoint
-- keeps the last event it has dealt with, (cursor_xid, cursor_id) in events_after's order, so
-- one job per endpoint walks the outbox from there; an event it does not subscribe to moves
-- the cursor too. A new endpoint starts at the outbox's end (webhooks.sql.ts): no history.
ALTER TABLE webhook_endpoints
  ADD COLUMN cursor_xid xid8 NOT NULL DEFAULT '0',
  ADD COLUMN cursor_id  bigint NOT NULL DEFAULT 0;

UPDATE webhook_endpoints
   SET (cursor_xid, cursor_id) = (SELECT xid, id FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
                                   ORDER BY xid DESC, id DESC LIMIT 1)
 WHERE EXISTS (SELECT FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot()));

-- One row per event sent to an endpoint: its attempts and the last one's outcome. Written in
-- batches for events delivered at the first try, once per attempt for the others. No foreign
-- key to events, whose delivered rows may be pruned; the type is kept for the log.
CREATE TABLE webhook_deliveries (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_id        bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id           bigint NOT NULL,
  event_type         text NOT NULL,
  attempts           integer NOT NULL DEFAULT 0,
  last_status_code   integer,
  last_latency_ms    integer,
  -- the first 1 KiB of the receiver's answer
  last_response_body text,
  last_error         text,
  -- when the event first failed to arrive: an endpoint failing for WEBHOOK_RETRY_FOR is disabled
  first_failed_at    timestamptz,
  next_retry_at      timestamptz,
  delivered_at       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id)
);
-- The endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id DESC);
