import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';

export type Pool = pg.Pool;
/** A client that is inside a transaction (or a pool, for single statements). */
export type Queryable = pg.Pool | pg.PoolClient;
export type Tx = pg.PoolClient;

/** True for the pool itself: statements may run in parallel, each on its own connection. */
export const isPool = (db: Queryable): db is pg.Pool => db instanceof pg.Pool;

// bigint ids travel as strings (pg's default); counts that we sum are cast in SQL.
export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: 'promo-codes',
    // A database that drops packets silently would otherwise leave a connection attempt, or a
    // request waiting for a free connection, hanging for minutes instead of failing (a 503).
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  // A connection can fail at any moment (a database restart, a failover, a backend killed by an
  // admin). pg-pool listens for that only while a client is idle and removes its listener while
  // the client is checked out, so an error then would be an unhandled 'error' event and end the
  // process. Every client made by this pool (graphile-worker's included) gets a listener for its
  // whole life here; the query in flight fails with the same error, and the broken client is
  // dropped when it is released.
  pool.on('connect', (client) => client.on('error', ignoreConnectionError));
  // An idle client losing its connection: the pool drops it and makes another when needed.
  pool.on('error', ignoreConnectionError);
  return pool;
}

function ignoreConnectionError(): void {}

/**
 * Checks a client out for `work` and gives it back, dropped instead of reused when `work` failed
 * in a way that may have left the connection broken or mid-transaction.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    return await work(client);
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * The transaction a request runs in when its writes must commit together with something the
 * request layer adds: an Idempotency-Key and the response stored for it (http/idempotency.ts).
 * Inside it, `transaction()` opens a savepoint on that transaction instead of a new one.
 */
const ambient = new AsyncLocalStorage<Tx>();

/** Runs `work` with `tx` as the transaction every `transaction()` inside it joins. */
export const joiningTransaction = <T>(tx: Tx, work: () => Promise<T>): Promise<T> => ambient.run(tx, work);

/** The transaction `transaction()` would join here, if any. */
export const ambientTransaction = (): Tx | undefined => ambient.getStore();

let savepoints = 0;

/**
 * Runs `work` in one transaction on a dedicated client: commit on success,
 * rollback on any error (which is rethrown). Inside `joiningTransaction`, `work` runs in a
 * savepoint of that transaction instead, released on success and rolled back on error.
 */
export async function transaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const joined = ambient.getStore();
  if (joined) return inSavepoint(joined, work);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A client whose ROLLBACK fails (its connection is gone) is not given back to the pool.
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

async function inSavepoint<T>(tx: Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  const name = `joined_${++savepoints}`;
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await work(tx);
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    // A connection that is gone fails the outer transaction anyway.
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
    throw error;
  }
}

const DEADLOCK = '40P01';

/**
 * Runs `attempt` again (at most three times in all) while PostgreSQL picks it to break a
 * deadlock. Each attempt must be a whole transaction (or a savepoint of a joined one), so the
 * deadlock rolled it back whole and running it again is safe, as long as all it does is in the
 * database.
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
