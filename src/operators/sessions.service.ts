// Dashboard sessions. Signing in makes a 256-bit random token, given to the browser in a
// cookie and stored only as its SHA-256 (like API keys, nothing to brute-force). A session
// ends when its operator signs out, is disabled or has their password reset, or after
// SESSION_TTL without a request.
import { createHash, randomBytes } from 'node:crypto';
import type { Pool, Queryable } from '../db/pool';
import { transaction } from '../db/pool';
import { recordAudit } from '../audit/audit.service';
import { DomainError, invalid } from '../http/errors';
import { actorOf, type Principal } from '../auth/roles';
import { presentOperator } from './operators.service';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from './passwords';
import * as sql from './operators.sql';

const sessionId = (token: string) => createHash('sha256').update(token).digest('hex');

// One answer for an unknown email, a wrong password and a disabled operator, so that the
// sign-in form does not tell which emails exist.
const invalidCredentials = () => new DomainError('invalid_credentials', 'wrong email or password');

/** The signed-in operator as the session answer shows them: who they are, not their history. */
function presentSessionOperator(row: sql.OperatorRow) {
  const { id, email, name, role, must_change_password } = presentOperator(row);
  return { id, email, name, role, must_change_password };
}

export interface OperatorSession {
  id: string;
  principal: Principal;
  operator: ReturnType<typeof presentSessionOperator>;
}

export async function signIn(pool: Pool, input: { email: string; password: string }, ttlSeconds: number) {
  const found = await sql.findOperatorByEmail(pool, input.email.trim());
  // The password is checked even for an unknown or disabled operator: every refusal costs the same.
  const ok = found
    ? await verifyPassword(input.password, found.password_hash)
    : await verifyAgainstDecoy(input.password);
  if (!found || !ok || found.disabled_at) throw invalidCredentials();

  const token = randomBytes(32).toString('base64url');
  const operator = await transaction(pool, async (tx) => {
    await sql.deleteExpiredSessionsOf(tx, found.id);
    await sql.insertSession(tx, { id: sessionId(token), operatorId: found.id, ttlSeconds });
    return sql.recordLogin(tx, found.id);
  });
  return { token, operator: presentSessionOperator(operator) };
}

/** The live session a token names, sliding its expiry forward at most once a minute. */
export async function findSession(db: Queryable, token: string, ttlSeconds: number): Promise<OperatorSession | null> {
  if (!/^[\w-]{20,100}$/.test(token)) return null;
  const row = await sql.findLiveSession(db, sessionId(token));
  if (!row) return null;
  if (row.stale) await sql.touchSession(db, row.session_id, ttlSeconds);
  return {
    id: row.session_id,
    principal: { kind: 'operator', id: row.id, name: row.name ?? row.email, role: row.role },
    operator: presentSessionOperator(row),
  };
}

export async function signOut(db: Queryable, token: string): Promise<void> {
  await sql.deleteSession(db, sessionId(token));
}

/**
 * Replaces the signed-in operator's password and clears must_change_password. Their other
 * sessions end (whoever else held one no longer knows the password); this one continues.
 */
export async function changePassword(
  pool: Pool,
  session: OperatorSession,
  input: { current_password: string; new_password: string },
  requestId: string,
) {
  if (input.new_password === input.current_password) {
    throw invalid([{ path: 'body.new_password', message: 'must differ from the current password' }]);
  }
  const newHash = await hashPassword(input.new_password);
  return transaction(pool, async (tx) => {
    const before = await sql.lockOperator(tx, session.principal.id);
    if (!before || before.disabled_at) throw invalidCredentials();
    if (!(await verifyPassword(input.current_password, before.password_hash))) throw invalidCredentials();
    const after = await sql.updateOperator(tx, before.id, {
      name: before.name,
      role: before.role,
      disabled: false,
      passwordHash: newHash,
      mustChangePassword: false,
    });
    await sql.deleteSessionsOf(tx, before.id, session.id);
    await recordAudit(
      tx,
      { actor: actorOf(session.principal), requestId },
      {
        action: 'operator.change_password',
        entityType: 'operator',
        entityId: before.id,
        before: presentOperator(before),
        after: presentOperator(after),
      },
    );
    return presentSessionOperator(after);
  });
}
