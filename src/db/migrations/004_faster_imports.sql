-- Faster imports: the staging table loses its primary key.
--
-- Maintaining the (import_id, line) B-tree cost ~0.8 s of a million-line upload's COPY, about
-- as much as the rows themselves, and the import job no longer needs it: it takes a file
-- whole (up to a million lines) in one scan, sorts it by code, and empties the table with
-- TRUNCATE when no other import is staged (imports.sql.ts). Line numbers are assigned by the
-- upload, one per line, so nothing needs the key to keep them unique. The price is paid by
-- uploads over a million lines (MAX_CODES_PER_REQUEST raised): each of their chunks scans the
-- staged lines and picks the next million by line number with a sort instead of a key range.
ALTER TABLE import_lines DROP CONSTRAINT import_lines_pkey;
