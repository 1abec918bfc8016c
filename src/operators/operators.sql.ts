import type { Queryable } from '../db/pool';
import type { UserRole } from '../auth/roles';

export interface OperatorRow {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  must_change_password: boolean;
  disabled_at: Date | null;
  created_by: string | null;
  created_at: Date;
  last_login_at: Date | null;
}

export interface OperatorWithHash extends OperatorRow {
  password_hash: string;
}

// password_hash is never in COLUMNS: only the queries that check a password read it.
const COLUMNS = 'id, email, name, role, must_change_password, disabled_at, created_by, created_at, last_login_at';

/** Inserts an operator, or returns undefined when the email (in any case) is taken. */
export async function insertOperator(
  db: Queryable,
  op: { email: string; name: string | null; role: UserRole; passwordHash: string; createdBy: string | null },
): Promise<OperatorRow | undefined> {
  const { rows } = await db.query<OperatorRow>(
    `INSERT INTO operators (email, name, role, password_hash, must_change_password, created_by)
     VALUES ($1, $2, $3, $4, true, $5)
     ON CONFLICT ((lower(email))) DO NOTHING
     RETURNING ${COLUMNS}`,
    [op.email, op.name, op.role, op.passwordHash, op.createdBy],
  );
  return rows[0];
}

export async function listOperators(db: Queryable, after: string | null, limit: number): Promise<OperatorRow[]> {
  const { rows } = await db.query<OperatorRow>(
    `SELECT ${COLUMNS} FROM operators WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return rows;
}

export async function lockOperator(db: Queryable, id: string): Promise<OperatorWithHash | undefined> {
  const { rows } = await db.query<OperatorWithHash>(
    `SELECT ${COLUMNS}, password_hash FROM operators WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0];
}

export async function findOperatorByEmail(db: Queryable, email: string): Promise<OperatorWithHash | undefined> {
  const { rows } = await db.query<OperatorWithHash>(
    `SELECT ${COLUMNS}, password_hash FROM operators WHERE lower(email) = lower($1)`,
    [email],
  );
  return rows[0];
}

export async function updateOperator(
  db: Queryable,
  id: string,
  change: {
    name: string | null;
    role: UserRole;
    disabled: boolean;
    passwordHash: string | null;
    mustChangePassword: boolean;
  },
): Promise<OperatorRow> {
  const { rows } = await db.query<OperatorRow>(
    `UPDATE operators
        SET name = $2, role = $3,
            disabled_at = CASE WHEN $4 THEN coalesce(disabled_at, now()) END,
            password_hash = coalesce($5, password_hash),
            must_change_password = $6
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id, change.name, change.role, change.disabled, change.passwordHash, change.mustChangePassword],
  );
  return rows[0]!;
}

export async function recordLogin(db: Queryable, id: string): Promise<OperatorRow> {
  const { rows } = await db.query<OperatorRow>(
    `UPDATE operators SET last_login_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0]!;
}

export async function anyOperatorExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM operators LIMIT 1');
  return rows.length > 0;
}

// ---- sessions ----

export async function insertSession(
  db: Queryable,
  session: { id: string; operatorId: string; ttlSeconds: number },
): Promise<void> {
  await db.query(
    `INSERT INTO operator_sessions (id, operator_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`,
    [session.id, session.operatorId, session.ttlSeconds],
  );
}

export interface SessionRow extends OperatorRow {
  session_id: string;
  /** last seen more than a minute ago: time to slide its expiry forward */
  stale: boolean;
}

/** The live session with this id and its (enabled) operator. */
export async function findLiveSession(db: Queryable, id: string): Promise<SessionRow | undefined> {
  const { rows } = await db.query<SessionRow>(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `o.${c}`)
      .join(', ')},
            s.id AS session_id, s.last_seen_at < now() - interval '1 minute' AS stale
       FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
      WHERE s.id = $1 AND s.expires_at > now() AND o.disabled_at IS NULL`,
    [id],
  );
  return rows[0];
}

export async function touchSession(db: Queryable, id: string, ttlSeconds: number): Promise<void> {
  await db.query(
    `UPDATE operator_sessions SET last_seen_at = now(), expires_at = now() + make_interval(secs => $2) WHERE id = $1`,
    [id, ttlSeconds],
  );
}

export async function deleteSession(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM operator_sessions WHERE id = $1', [id]);
}

/** Ends an operator's sessions, all of them or all but one. */
export async function deleteSessionsOf(db: Queryable, operatorId: string, except: string | null = null): Promise<void> {
  await db.query('DELETE FROM operator_sessions WHERE operator_id = $1 AND ($2::text IS NULL OR id <> $2)', [
    operatorId,
    except,
  ]);
}

export async function deleteExpiredSessionsOf(db: Queryable, operatorId: string): Promise<void> {
  await db.query('DELETE FROM operator_sessions WHERE operator_id = $1 AND expires_at <= now()', [operatorId]);
}
