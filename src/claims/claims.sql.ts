import { isPool, retryingDeadlocks, type Queryable, type Tx } from '../db/pool';
import type { ClaimRecord } from './claims.schema';
import type { ClaimRefusal } from './claims.schema';
import { giveBackClaim } from '../lists/counters';

type ClaimKind = 'claim' | 'validate' | 'verdict';

export interface LockoutRules {
  threshold: number;
  windowSeconds: number;
  durationSeconds: number;
}

/** What the claim function answers: an error reason with its details, or the result. */
export interface ClaimResult {
  error?: ClaimRefusal;
  list_id?: string;
  locked_until?: string;
  period?: string;
  limit?: number;
  claim?: {
    id: string;
    code: string;
    list_id: string;
    customer_id: string;
    claimed_at: string;
    outcome: Record<string, unknown>;
  };
  valid?: true;
  outcome?: Record<string, unknown>;
}

/**
 * Runs the rules of docs/product.md in the database (claim_code in claims.functions.sql). A
 * claim is one statement, so one round trip. Run on its own (not inside a caller's
 * transaction), the statement is its own transaction, and is run again should it deadlock
 * with an agent's reversal or cancel of the same code.
 */
export async function runClaim(
  db: Queryable,
  kind: ClaimKind,
  code: string,
  customerId: string,
  lockout: LockoutRules,
): Promise<ClaimResult> {
  const once = async () => {
    const { rows } = await db.query<{ result: ClaimResult }>({
      name: 'claim_code',
      text: 'SELECT claim_code($1, $2, $3, $4, make_interval(secs => $5), make_interval(secs => $6)) AS result',
      values: [kind, code, customerId, lockout.threshold, lockout.windowSeconds, lockout.durationSeconds],
    });
    return rows[0]!.result;
  };
  return isPool(db) ? retryingDeadlocks(once) : once();
}

/**
 * Runs several claims or validations in one statement and one transaction (claim_codes in
 * claims.functions.sql), in the order given; answers come back in that order. Claims start at
 * counter slot `slot`. See batcher.ts.
 */
export async function runClaims(
  db: Queryable,
  kind: 'claim' | 'validate',
  items: { code: string; customerId: string }[],
  lockout: LockoutRules,
  slot: number,
): Promise<ClaimResult[]> {
  const { rows } = await db.query<{ results: ClaimResult[] }>({
    name: 'claim_codes',
    text: 'SELECT claim_codes($1, $2, $3, $4, make_interval(secs => $5), make_interval(secs => $6), $7) AS results',
    values: [
      kind,
      items.map((item) => item.code),
      items.map((item) => item.customerId),
      lockout.threshold,
      lockout.windowSeconds,
      lockout.durationSeconds,
      slot,
    ],
  });
  return rows[0]!.results;
}

const CLAIM_COLUMNS = `c.id, c.code, c.list_id, l.name AS list_name, l.type AS list_type, c.customer_id, c.claimed_at,
  c.outcome, c.reversed_at IS NOT NULL AS reversed, c.reversed_at, c.reversal_reason, c.reversed_by`;

export async function findClaim(
  db: Queryable,
  id: string,
  lock = false,
): Promise<(ClaimRecord & { slot: number }) | undefined> {
  const { rows } = await db.query<ClaimRecord & { slot: number }>(
    `SELECT ${CLAIM_COLUMNS}, c.slot FROM claims c JOIN lists l ON l.id = c.list_id
     WHERE c.id = $1 ${lock ? 'FOR UPDATE OF c' : ''}`,
    [id],
  );
  return rows[0];
}

// A code's claims (its value in `param`): live and reversed ones each through their own
// partial index (migration 003).
const claimsOfOneCode = (param: string) => `SELECT * FROM claims WHERE code = ${param} AND reversed_at IS NULL
                 UNION ALL
                 SELECT * FROM claims WHERE code = ${param} AND reversed_at IS NOT NULL`;

const CLAIMS_OF_CODE = {
  name: 'claims_of_code',
  text: `SELECT ${CLAIM_COLUMNS}
           FROM (${claimsOfOneCode('$1')}) c
           JOIN lists l ON l.id = c.list_id
          ORDER BY c.id DESC LIMIT $2`,
};

/** The latest claims on a code, newest first (a named statement: code lookups are hot). */
export async function claimsOfCode(db: Queryable, code: string, limit: number): Promise<ClaimRecord[]> {
  const { rows } = await db.query<ClaimRecord>({ ...CLAIMS_OF_CODE, values: [code, limit] });
  return rows;
}

/** A customer's claims, newest first. */
export async function listCustomerClaims(
  db: Queryable,
  customerId: string,
  afterId: string | null,
  limit: number,
): Promise<ClaimRecord[]> {
  const { rows } = await db.query<ClaimRecord>(
    `SELECT ${CLAIM_COLUMNS} FROM claims c JOIN lists l ON l.id = c.list_id
      WHERE c.customer_id = $1 AND ($2::bigint IS NULL OR c.id < $2)
      ORDER BY c.id DESC LIMIT $3`,
    [customerId, afterId, limit],
  );
  return rows;
}

/**
 * Undoes a claim's effects; the caller holds the claim row locked. What the claim issued is
 * found through the customer's rows, which are indexed by customer. The counter slot is taken
 * before the code row, in the order a claim takes them, so a reversal racing a claim on the
 * same code cannot deadlock with it.
 */
export async function reverseClaim(
  tx: Tx,
  claim: { id: string; code: string; list_id: string; slot: number; customer_id: string },
  reason: string,
  actor: string,
) {
  await giveBackClaim(tx, claim.list_id, claim.slot);
  await tx.query(
    // A multi-use code's row never carries claimed_by, so this frees single-use and
    // third-party codes only.
    `UPDATE codes SET claimed_by = NULL, claimed_at = NULL WHERE code = $1 AND claimed_by = $2`,
    [claim.code, claim.customer_id],
  );
  await tx.query('UPDATE claims SET reversed_at = now(), reversal_reason = $2, reversed_by = $3 WHERE id = $1', [
    claim.id,
    reason,
    actor,
  ]);
  await tx.query(
    `INSERT INTO points_ledger (customer_id, account_key, source_key, amount, claim_id)
     SELECT customer_id, account_key, source_key, -amount, claim_id FROM points_ledger
      WHERE customer_id = $2 AND claim_id = $1 AND amount > 0`,
    [claim.id, claim.customer_id],
  );
  await tx.query(
    'UPDATE issued_offers SET revoked_at = now() WHERE customer_id = $2 AND claim_id = $1 AND revoked_at IS NULL',
    [claim.id, claim.customer_id],
  );
  // A tag this claim added stays when another live claim of the customer also gives it: that
  // claim becomes the one that added it. The others go.
  await tx.query(
    `UPDATE customer_tags t SET claim_id = heir.id
       FROM (SELECT t.tag,
                    (SELECT c.id FROM claims c
                      WHERE c.customer_id = $2 AND c.id <> $1 AND c.reversed_at IS NULL AND c.outcome->'tags' ? t.tag
                      ORDER BY c.id LIMIT 1) AS id
               FROM customer_tags t WHERE t.customer_id = $2 AND t.claim_id = $1) heir
      WHERE t.customer_id = $2 AND t.tag = heir.tag AND heir.id IS NOT NULL`,
    [claim.id, claim.customer_id],
  );
  await tx.query('DELETE FROM customer_tags WHERE customer_id = $2 AND claim_id = $1', [claim.id, claim.customer_id]);
}

export interface AttemptRow {
  id: string;
  kind: 'claim' | 'validate';
  code: string;
  customer_id: string;
  list_id: string | null;
  result: 'succeeded' | 'failed';
  reason: string | null;
  claim_id: string | null;
  at: Date;
}

export async function listAttempts(
  db: Queryable,
  by: { customerId?: string; code?: string; result?: 'succeeded' | 'failed' },
  afterId: string | null,
  limit: number,
): Promise<AttemptRow[]> {
  // Failed claims and validations are in `attempts`; successful claims are their own attempts.
  const { rows } = await db.query<AttemptRow>(
    `SELECT * FROM (
       SELECT id, kind, code, customer_id, list_id,
              CASE WHEN reason IS NULL THEN 'succeeded' ELSE 'failed' END AS result,
              reason, NULL::bigint AS claim_id, at
         FROM attempts
        WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::text IS NULL OR code = $2)
          AND ($3::text IS NULL OR ($3 = 'failed') = (reason IS NOT NULL))
          AND ($4::bigint IS NULL OR id < $4)
        ORDER BY id DESC LIMIT $5) a
     UNION ALL
     SELECT * FROM (
       SELECT id, 'claim', code, customer_id, list_id, 'succeeded', NULL, id, claimed_at
         FROM (${by.code === undefined ? 'SELECT * FROM claims' : claimsOfOneCode('$2')}) c
        WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::text IS NULL OR code = $2)
          AND ($3::text IS NULL OR $3 = 'succeeded')
          AND ($4::bigint IS NULL OR id < $4)
        ORDER BY id DESC LIMIT $5) c
     ORDER BY id DESC LIMIT $5`,
    [by.customerId ?? null, by.code ?? null, by.result ?? null, afterId, limit],
  );
  return rows;
}
