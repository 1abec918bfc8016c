// A list's counts — claims, codes, cancels — live in COUNTER_SLOTS rows of list_counters, so
// that concurrent writers to one list touch different rows (docs/architecture.md, "Caps
// without a queue"). This module and src/lists/counters.functions.sql are their one owner:
// the slot count, which slot a batch lane starts at, that codes and cancels count on slot 0,
// how a cap is shared out. Everything else calls them.
import type { Queryable } from '../db/pool';

/** Counter rows per list; list_counter_slots() in counters.functions.sql says the same. */
export const COUNTER_SLOTS = 32;

/** The slot where codes and cancels are counted (claims are spread over every slot). */
const CODES_SLOT = 0;

/**
 * The slot a claim batch lane starts its claims at: lanes spread evenly over the slots, so
 * that they never share one.
 */
export const laneSlot = (lane: number, lanes: number): number => Math.floor((lane * COUNTER_SLOTS) / lanes);

/** A new list's counter rows, with the codes it starts with (a multi-use list's one code). */
export async function createCounters(db: Queryable, listId: string, codes: number): Promise<void> {
  await db.query('SELECT create_list_counters($1, $2)', [listId, codes]);
}

/** The list's totals, as a LATERAL subquery over the list `alias`: claims, codes, cancelled. */
export const counterTotals = (alias: string) => `
   SELECT COALESCE(sum(claims), 0)::float8 AS claims, COALESCE(sum(codes), 0)::float8 AS codes,
          COALESCE(sum(cancelled), 0)::float8 AS cancelled
     FROM list_counters WHERE list_id = ${alias}.id`;

/** Locks every counter row of the list (in slot order): no claim is in flight until commit. */
export async function lockCounters(db: Queryable, listId: string): Promise<void> {
  await db.query('SELECT 1 FROM list_counters WHERE list_id = $1 ORDER BY slot FOR UPDATE', [listId]);
}

/** Shares a changed cap out over the list's slots; the caller holds them locked. */
export async function spreadCap(db: Queryable, listId: string): Promise<void> {
  await db.query('SELECT spread_list_cap($1)', [listId]);
}

/** Counts codes added to the list (a batch or import chunk). */
export async function countCodes(db: Queryable, listId: string, added: number): Promise<void> {
  await db.query('UPDATE list_counters SET codes = codes + $2 WHERE list_id = $1 AND slot = $3', [
    listId,
    added,
    CODES_SLOT,
  ]);
}

/**
 * Locks the row a cancel counts on. Taken before the code row, in the order a claim takes
 * them, so that a cancel racing a claim cannot deadlock with it.
 */
export async function lockCancelCounter(db: Queryable, listId: string): Promise<void> {
  await db.query('SELECT 1 FROM list_counters WHERE list_id = $1 AND slot = $2 FOR UPDATE', [listId, CODES_SLOT]);
}

export async function countCancel(db: Queryable, listId: string): Promise<void> {
  await db.query('UPDATE list_counters SET cancelled = cancelled + 1 WHERE list_id = $1 AND slot = $2', [
    listId,
    CODES_SLOT,
  ]);
}

/** Gives back the unit a claim took in its slot (a reversal). */
export async function giveBackClaim(db: Queryable, listId: string, slot: number): Promise<void> {
  await db.query('SELECT give_back_claim_unit($1, $2)', [listId, slot]);
}
