import pg from 'pg';

export type Pool = pg.Pool;
/** A client that is inside a transaction (or a pool, for single statements). */
export type Queryable = pg.Pool | pg.PoolClient;
export type Tx = pg.PoolClient;

/** True for the pool itself: statements may run in parallel, each on its own connection. */
export const isPool = (db: Queryable): db is pg.Pool => db instanceof pg.Pool;

// bigint ids travel as strings (pg's default); counts that we sum are cast in SQL.
export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: 'promo-codes' });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs `work` in one transaction on a dedicated client: commit on success,
 * rollback on any error (which is rethrown).
 */
export async function transaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

const DEADLOCK = '40P01';

/**
 * Runs `attempt` again (at most three times in all) while PostgreSQL picks it to break a
 * deadlock. Each attempt must be a whole transaction, so the deadlock rolled it back whole and
 * running it again is safe, as long as all it does is in the database.
 */
export async function retryingDeadlocks<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || tries >= 3) throw error;
    }
  }
}

/**
 * `transaction`, run again when it was picked to break a deadlock: for the agent's and
 * admin's transactions that lock rows claims also lock (counter slots, code rows, claims).
 */
export const transactionRetryingDeadlocks = <T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>): Promise<T> =>
  retryingDeadlocks(() => transaction(pool, work));
