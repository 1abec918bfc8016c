-- The outbox of events (src/events/events.ts): one row per event, inserted in the transaction
-- of the change it tells of, so an event exists exactly when its change committed. Rows are
-- only ever inserted, never updated: no row is shared by concurrent writers, and the identity
-- sequence, not being transactional, makes no writer wait for another.
--
-- Why `xid`: ids are drawn when a row is inserted, but transactions commit in another order,
-- so a reader walking events by id could see id 11 committed while id 10's transaction is
-- still open, move past 10 and never see it. Each row therefore carries its transaction's id,
-- and a reader takes only rows with xid < pg_snapshot_xmin(pg_current_snapshot()): every
-- transaction below that xmin has ended, and any transaction still to write an event has a
-- higher xid. Walked in (xid, id) order from the last one delivered (events_after in
-- events.functions.sql), no event is ever skipped; events of one transaction keep their order.
CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  type       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  data       jsonb NOT NULL
);

CREATE INDEX events_xid_id ON events (xid, id);
