// Operators: created by admins (or, once, by start-up) with a one-time password that the
// operator replaces at first sign-in. Passwords and their hashes never leave this folder:
// responses and audit events carry presentOperator(), which has neither.
import type { Pool, Queryable, Tx } from '../db/pool';
import { transaction } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { DomainError, conflict, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import type { CreateOperatorInput, UpdateOperatorInput } from './operators.schema';
import { generatePassword, hashPassword } from './passwords';
import * as sql from './operators.sql';

export function presentOperator(row: sql.OperatorRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    must_change_password: row.must_change_password,
    disabled_at: row.disabled_at,
    created_at: row.created_at,
    last_login_at: row.last_login_at,
  };
}

const emailTaken = (email: string) =>
  conflict('email_taken', `an operator with the email ${JSON.stringify(email)} already exists`);

export async function createOperator(tx: Tx, ctx: AuditContext, input: CreateOperatorInput) {
  const password = generatePassword();
  const row = await sql.insertOperator(tx, {
    email: input.email.trim(),
    name: input.name ?? null,
    role: input.role,
    passwordHash: await hashPassword(password),
    createdBy: ctx.actor,
  });
  if (!row) throw emailTaken(input.email);
  await recordAudit(tx, ctx, {
    action: 'operator.create',
    entityType: 'operator',
    entityId: row.id,
    after: presentOperator(row),
  });
  return { ...presentOperator(row), password };
}

export async function listOperators(db: Queryable, query: { limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, ['id'])?.[0] as string | undefined;
  const rows = await sql.listOperators(db, after ?? null, query.limit + 1);
  const result = page(rows, query.limit, (row) => [row.id]);
  return { items: result.items.map(presentOperator), next_cursor: result.next_cursor };
}

/**
 * Changes name, role and enabled state, and/or resets the password. Disabling and resetting
 * end the operator's sessions. Admins cannot lock themselves out: disabling or demoting
 * oneself is refused, so there is always someone left who can undo a change.
 */
export async function updateOperator(tx: Tx, ctx: AuditContext, id: string, input: UpdateOperatorInput) {
  // An operator acting on another locks both rows, in id order, and must still be an enabled
  // admin once it holds them: two admins demoting or disabling each other at the same moment
  // cannot both succeed and leave nobody who can undo it.
  const actorId = ctx.actor.startsWith('operator:') ? ctx.actor.slice('operator:'.length) : null;
  const ids = actorId && actorId !== id ? [actorId, id].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) : [id];
  const locked = new Map<string, Awaited<ReturnType<typeof sql.lockOperator>>>();
  for (const each of ids) locked.set(each, await sql.lockOperator(tx, each));
  const before = locked.get(id);
  if (!before) throw notFound('operator', id);
  if (actorId && actorId !== id) {
    const actor = locked.get(actorId);
    if (actor?.role !== 'admin' || actor.disabled_at !== null) {
      throw new DomainError('forbidden', 'your operator account is no longer an enabled admin');
    }
  }
  const self = actorId === id;
  if (self && (input.disabled === true || (input.role !== undefined && input.role !== before.role))) {
    throw conflict(
      'cannot_change_own_access',
      'you cannot disable yourself or change your own role; ask another admin',
    );
  }

  const password = input.reset_password ? generatePassword() : null;
  const after = await sql.updateOperator(tx, id, {
    name: input.name !== undefined ? input.name : before.name,
    role: input.role ?? before.role,
    disabled: input.disabled ?? before.disabled_at !== null,
    passwordHash: password ? await hashPassword(password) : null,
    mustChangePassword: password ? true : before.must_change_password,
  });
  if (after.disabled_at || password) await sql.deleteSessionsOf(tx, id);

  const changed =
    before.name !== after.name ||
    before.role !== after.role ||
    (before.disabled_at === null) !== (after.disabled_at === null);
  if (changed) {
    await recordAudit(tx, ctx, {
      action: 'operator.update',
      entityType: 'operator',
      entityId: id,
      before: presentOperator(before),
      after: presentOperator(after),
    });
  }
  if (password) {
    await recordAudit(tx, ctx, {
      action: 'operator.reset_password',
      entityType: 'operator',
      entityId: id,
      before: { must_change_password: before.must_change_password },
      after: { must_change_password: true },
    });
  }
  return password ? { ...presentOperator(after), password } : presentOperator(after);
}

const FIRST_ADMIN_LOCK = 'operators:first_admin';

/**
 * On a database that has never had an operator, creates an admin with a one-time password
 * and returns its login; otherwise null. Processes starting together on one database take
 * an advisory lock in turn, and the first one leaves a `first_admin` marker in `settings`,
 * so exactly one admin is made, and never again, even if operators are later deleted by hand.
 */
export async function ensureFirstAdmin(pool: Pool, email: string): Promise<{ email: string; password: string } | null> {
  const done = await pool.query("SELECT 1 FROM settings WHERE key = 'first_admin'");
  if (done.rows.length) return null; // the common case, without a lock or a hash
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return transaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [FIRST_ADMIN_LOCK]);
    const marker = await tx.query("SELECT 1 FROM settings WHERE key = 'first_admin'");
    if (marker.rows.length) return null;
    const ctx: AuditContext = { actor: 'system', requestId: null };
    let created: sql.OperatorRow | undefined;
    if (!(await sql.anyOperatorExists(tx))) {
      created = await sql.insertOperator(tx, {
        email,
        name: 'Administrator',
        role: 'admin',
        passwordHash,
        createdBy: ctx.actor,
      });
      if (!created) throw new Error('first admin: insert found an operator after checking there was none');
      await recordAudit(tx, ctx, {
        action: 'operator.create',
        entityType: 'operator',
        entityId: created.id,
        after: presentOperator(created),
      });
    }
    await tx.query("INSERT INTO settings (key, value) VALUES ('first_admin', $1)", [
      JSON.stringify({ operator_id: created?.id ?? null, created_at: new Date().toISOString() }),
    ]);
    return created ? { email: created.email, password } : null;
  });
}
