-- The rejected-rows report says why in detail: an invalid row's problem with the code
-- alphabet (too_short, too_long, bad_characters), and the line a duplicate repeats.
ALTER TABLE import_lines ADD COLUMN problem text;
ALTER TABLE import_rejections ADD COLUMN detail text;
ALTER TABLE import_rejections ADD COLUMN repeats_line integer;
