// Claims, validation and reversals. The rules themselves run in the database (claim_code,
// claims.functions.sql); this layer turns their answers into HTTP responses and owns reversals.
import type { Config } from '../config';
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { DomainError, conflict, notFound, type ErrorDetails } from '../http/errors';
import { findCustomer } from '../customers/customers.sql';
import { decodeCursor, page } from '../http/pagination';
import { normalizeCode } from '../codes/normalize';
import * as sql from './claims.sql';
import type { ClaimBody } from './claims.schema';
import { messageOf } from '../http/error-codes';
import { responseOf, type StoredResponse } from '../http/idempotency';
import { metrics } from '../ops/metrics';
import { pageSize } from '../http/schemas';
import { recordEvent } from '../events/events';

export const lockoutRules = (config: Readonly<Config>): sql.LockoutRules => ({
  threshold: config.lockoutThreshold,
  windowSeconds: config.lockoutWindowSeconds,
  durationSeconds: config.lockoutDurationSeconds,
});

/** Seconds until a lockout ends, at least 1, for Retry-After. */
const secondsUntil = (time: string | Date) => Math.max(1, Math.ceil((new Date(time).getTime() - Date.now()) / 1000));

/** A refusal of the claim function as the domain error a client gets, with Retry-After for a lockout. */
export function refusalError(result: sql.ClaimResult): DomainError {
  const reason = result.error!;
  const message = messageOf(reason);
  const details: ErrorDetails = {};
  if (result.list_id) details.list_id = result.list_id;
  if (result.locked_until) details.locked_until = new Date(result.locked_until).toISOString();
  if (result.period) Object.assign(details, { period: result.period, limit: result.limit });
  const detailed = result.period ? `${message} (${result.limit} per ${result.period})` : message;
  const headers = result.locked_until ? { 'retry-after': String(secondsUntil(result.locked_until)) } : undefined;
  return new DomainError(reason, detailed, Object.keys(details).length ? details : undefined, headers);
}

/**
 * A refusal is answered, not thrown: the claim function has already recorded the attempt
 * (and any lockout), which must commit with an idempotent request's stored response.
 */
const refusal = (result: sql.ClaimResult): StoredResponse => responseOf(refusalError(result));

/** Runs one claim or validation: through the batcher, or inside a caller's transaction. */
export type ClaimRunner = (kind: 'claim' | 'validate', code: string, customerId: string) => Promise<sql.ClaimResult>;

/** Claims and validations inside `tx` (an idempotent request's transaction). */
export const inTransaction =
  (tx: Tx, rules: sql.LockoutRules): ClaimRunner =>
  (kind, code, customerId) =>
    sql.runClaim(tx, kind, code, customerId, rules);

/** Counts an answered claim or validation in the claims_total metric. */
function counted(kind: 'claim' | 'validate', result: sql.ClaimResult): sql.ClaimResult {
  metrics.claims.inc({ kind, result: result.error ? 'refused' : 'succeeded', reason: result.error ?? '' });
  return result;
}

export async function claim(run: ClaimRunner, body: ClaimBody): Promise<StoredResponse> {
  const result = counted('claim', await run('claim', normalizeCode(body.code), body.customer_id));
  if (result.error) return refusal(result);
  const issued = result.claim!;
  return { status: 201, body: { claim: { ...issued, claimed_at: new Date(issued.claimed_at).toISOString() } } };
}

export async function validate(run: ClaimRunner, body: ClaimBody): Promise<StoredResponse> {
  const code = normalizeCode(body.code);
  const result = counted('validate', await run('validate', code, body.customer_id));
  if (result.error) return refusal(result);
  return {
    status: 200,
    body: { valid: true, code, list_id: result.list_id, customer_id: body.customer_id, outcome: result.outcome },
  };
}

/** What a claim by this customer would return now, by the claim's own rules; changes nothing. */
export async function verdict(db: Queryable, rules: sql.LockoutRules, code: string, customerId: string) {
  return sql.runClaim(db, 'verdict', code, customerId, rules);
}

export async function getClaim(db: Queryable, id: string) {
  const claim = await sql.findClaim(db, id);
  if (!claim) throw notFound('claim', id);
  return present(claim);
}

function present<T extends { slot?: number }>(claim: T) {
  const { slot: _slot, ...visible } = claim;
  return visible;
}

/** docs/product.md reversal; a second reversal of the same claim is refused. */
export async function reverseClaim(tx: Tx, ctx: AuditContext, id: string, reason: string) {
  const before = await sql.findClaim(tx, id, true);
  if (!before) throw notFound('claim', id);
  if (before.reversed)
    throw conflict(
      'claim_already_reversed',
      `claim ${id} was reversed at ${new Date(before.reversed_at!).toISOString()}`,
    );
  await sql.reverseClaim(tx, before, reason, ctx.actor);
  const after = (await sql.findClaim(tx, id))!;
  await recordAudit(tx, ctx, {
    action: 'claim.reverse',
    entityType: 'claim',
    entityId: id,
    before: present(before),
    after: present(after),
  });
  await recordEvent(tx, 'claim.reversed', present(after));
  return present(after);
}

export async function customerClaims(db: Queryable, customerId: string, query: { limit?: number; cursor?: string }) {
  await requireCustomer(db, customerId);
  const limit = pageSize(query);
  const after = decodeCursor(query.cursor, ['id'])?.[0] as string | undefined;
  const rows = await sql.listCustomerClaims(db, customerId, after ?? null, limit + 1);
  return page(rows, limit, (row) => [row.id]);
}

export async function customerAttempts(
  db: Queryable,
  customerId: string,
  query: { result?: 'succeeded' | 'failed'; limit?: number; cursor?: string },
) {
  await requireCustomer(db, customerId);
  return attempts(db, { customerId }, query);
}

export async function attempts(
  db: Queryable,
  by: { customerId?: string; code?: string },
  query: { result?: 'succeeded' | 'failed'; limit?: number; cursor?: string },
) {
  const limit = pageSize(query);
  const after = decodeCursor(query.cursor, ['id'])?.[0] as string | undefined;
  const rows = await sql.listAttempts(db, { ...by, result: query.result }, after ?? null, limit + 1);
  return page(rows, limit, (row) => [row.id]);
}

async function requireCustomer(db: Queryable, id: string) {
  if (!(await findCustomer(db, id))) throw notFound('customer', id);
}
