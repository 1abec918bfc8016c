-- The outbox of events (migration 008, src/events/events.ts). Applied after the numbered
-- migrations, and again whenever this file changes (src/db/migrate.ts, "repeatable SQL").

-- Records one event in the current transaction: it commits, or rolls back, with the change
-- it tells of. An insert only, so concurrent writers never wait on each other. `p_data` is
-- the entity as the API returns it. PL/pgSQL keeps the insert's plan per connection (a SQL
-- function would plan it again on every call, once per claim).
CREATE OR REPLACE FUNCTION record_event(p_type text, p_data jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
BEGIN
  INSERT INTO events (type, data) VALUES (p_type, p_data) RETURNING id INTO v_id;
  RETURN v_id;
END
$$;

-- The events after (p_xid, p_id) in (xid, id) order, at most p_limit, from transactions that
-- have certainly ended: xid below the snapshot's xmin (migration 008 says why). Pass the last
-- event delivered, or ('0', 0) to start from the first. An event of a transaction still open
-- is held back, not skipped: it comes once that transaction commits, after the ones before it.
CREATE OR REPLACE FUNCTION events_after(p_xid xid8, p_id bigint, p_limit integer)
RETURNS SETOF events LANGUAGE sql STABLE AS $$
  SELECT * FROM events
   WHERE (xid, id) > (p_xid, p_id) AND xid < pg_snapshot_xmin(pg_current_snapshot())
   ORDER BY xid, id
   LIMIT p_limit
$$;
