// Finding one code by its value (docs/product.md) and cancelling it.
import { isPool, type Queryable, type Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { conflict, notFound } from '../http/errors';
import { getList } from '../lists/lists.service';
import { claimsOfCode } from '../claims/claims.sql';
import { normalizeCode } from './normalize';
import { cancelCode as cancelCodeRow, findCode } from './codes.sql';
import { recordEvent } from '../events/events';

/** How many of a code's claims the lookup shows, newest first; a multi-use code may have millions. */
const CLAIMS_SHOWN = 20;

const alreadyClaimed = () => conflict('code_already_claimed', 'the code has been claimed; reverse the claim instead');

/** A code by its value, in any form the customer typed it: its list, source, status and claims. */
export async function lookupCode(db: Queryable, raw: string) {
  const normalized = normalizeCode(raw);
  const row = await findCode(db, normalized);
  if (!row) throw notFound('code', raw);
  // In parallel on the pool; one after the other on a transaction's single connection.
  const [list, claims] = isPool(db)
    ? await Promise.all([getList(db, row.list_id), claimsOfCode(db, normalized, CLAIMS_SHOWN)])
    : [await getList(db, row.list_id), await claimsOfCode(db, normalized, CLAIMS_SHOWN)];
  // Timestamps inside json_build_object arrive as text in the server's format; make them Dates.
  const source = row.source && {
    ...row.source,
    created_at: new Date(row.source.created_at),
    completed_at: row.source.completed_at === null ? null : new Date(row.source.completed_at),
  };
  return {
    code: row.code,
    normalized,
    status: row.status,
    list: {
      id: list.id,
      name: list.name,
      type: list.type,
      status: list.status,
      completed_reason: list.completed_reason,
      starts_at: list.starts_at,
      ends_at: list.ends_at,
      redemption_cap: list.redemption_cap,
      claim_count: list.claim_count,
    },
    batch_id: source?.type === 'batch' ? source.id : null,
    import_id: source?.type === 'import' ? source.id : null,
    source: source ?? null,
    claimed_by: row.claimed_by,
    claimed_at: row.claimed_at,
    cancelled_at: row.cancelled_at,
    cancel_reason: row.cancel_reason,
    claim_count: row.live_claims,
    claims,
  };
}

/**
 * Cancels an unclaimed single-use or third-party code so that it can never be claimed.
 * Idempotent: cancelling a cancelled code answers as before and records nothing.
 */
export async function cancelCode(tx: Tx, ctx: AuditContext, raw: string, reason: string) {
  const normalized = normalizeCode(raw);
  const before = await findCode(tx, normalized);
  if (!before) throw notFound('code', raw);
  if (before.list_type === 'multi_use') {
    throw conflict(
      'code_not_cancellable',
      'a multi-use code cannot be cancelled; end the list or lower its cap instead',
    );
  }
  if (before.status === 'claimed') throw alreadyClaimed();
  if (before.status === 'cancelled') return lookupCode(tx, normalized);
  if (!(await cancelCodeRow(tx, before.list_id, normalized, reason))) {
    const now = (await findCode(tx, normalized))!;
    if (now.status === 'claimed') throw alreadyClaimed();
    return lookupCode(tx, normalized);
  }
  const after = await lookupCode(tx, normalized);
  await recordAudit(tx, ctx, {
    action: 'code.cancel',
    entityType: 'code',
    entityId: normalized,
    before: { status: before.status },
    after: { status: after.status, cancelled_at: after.cancelled_at, cancel_reason: after.cancel_reason },
  });
  await recordEvent(tx, 'code.cancelled', after);
  return after;
}
