// Customers: registration by clients, the profile everyone reads, and blocking by agents.
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { notFound } from '../http/errors';
import * as sql from './customers.sql';
import { recordEvent } from '../events/events';
import type { BlockCustomer, UpsertCustomer } from './customers.schema';

const ENTITY = 'customer';

export async function getProfile(db: Queryable, id: string) {
  const profile = await sql.findProfile(db, id);
  if (!profile) throw notFound(ENTITY, id);
  return profile;
}

/**
 * Registers a customer or updates the fields given. `audit` is null for client keys: clients
 * register customers at volume, and the audit log is for admin and agent changes.
 */
export async function upsertCustomer(tx: Tx, audit: AuditContext | null, id: string, input: UpsertCustomer) {
  const created = await sql.insertCustomer(tx, id, { email: input.email ?? null, name: input.name ?? null });
  if (created) {
    if (audit)
      await recordAudit(tx, audit, { action: 'customer.create', entityType: ENTITY, entityId: id, after: created });
    return { created: true, profile: await getProfile(tx, id) };
  }
  // Customers are never deleted, so a row that refused the insert is there to update.
  const before = audit ? await sql.findCustomer(tx, id, true) : undefined;
  const after = await sql.updateCustomer(tx, id, input);
  if (audit)
    await recordAudit(tx, audit, { action: 'customer.update', entityType: ENTITY, entityId: id, before, after });
  return { created: false, profile: await getProfile(tx, id) };
}

/**
 * Idempotent: blocking a blocked customer keeps the first block (time and reason) and
 * records nothing, since nothing changed.
 */
export async function blockCustomer(tx: Tx, ctx: AuditContext, id: string, input: BlockCustomer) {
  const before = await sql.findCustomer(tx, id, true);
  if (!before) throw notFound(ENTITY, id);
  const after = await sql.block(tx, id, input.reason ?? null);
  const profile = await getProfile(tx, id);
  if (after) {
    await recordAudit(tx, ctx, { action: 'customer.block', entityType: ENTITY, entityId: id, before, after });
    await recordEvent(tx, 'customer.blocked', profile);
  }
  return profile;
}

/** Idempotent, like blocking: unblocking a customer who is not blocked changes nothing. */
export async function unblockCustomer(tx: Tx, ctx: AuditContext, id: string) {
  const before = await sql.findCustomer(tx, id, true);
  if (!before) throw notFound(ENTITY, id);
  const after = await sql.unblock(tx, id);
  if (after)
    await recordAudit(tx, ctx, { action: 'customer.unblock', entityType: ENTITY, entityId: id, before, after });
  return getProfile(tx, id);
}

/**
 * Lets a locked-out customer claim again at once, and starts their count of unknown codes
 * afresh. Always audited: even with no lockout running, the count restarts.
 */
export async function clearLockout(tx: Tx, ctx: AuditContext, id: string) {
  const cleared = await sql.clearLockout(tx, id);
  if (!cleared) throw notFound(ENTITY, id);
  await recordAudit(tx, ctx, {
    action: 'customer.lockout_clear',
    entityType: ENTITY,
    entityId: id,
    before: { locked_out_until: cleared.locked_until },
    after: { locked_out_until: null },
  });
  return getProfile(tx, id);
}
