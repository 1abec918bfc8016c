-- Claims in batches: claim_code gained a `p_slot` argument (a batch lane's counter slot) and
-- claim_codes was added. Both now live in src/claims/claims.functions.sql; only the old
-- signature is dropped here.
DROP FUNCTION IF EXISTS claim_code(text, text, text, integer, interval, interval);
