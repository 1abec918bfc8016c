-- A time as every API answer writes it: ISO 8601 in UTC with milliseconds
-- (2026-12-04T09:30:00.000Z), for the SQL that builds answers as JSON (customer_profile, the
-- claim function) or files (exports). One expression, so PostgreSQL inlines it into a query.
-- Applied after the numbered migrations, and again whenever this file changes.
CREATE OR REPLACE FUNCTION api_time(p_at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
