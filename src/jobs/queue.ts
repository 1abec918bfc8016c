// The durable job queue (graphile-worker) in the service's own PostgreSQL. Jobs are added
// with SQL inside the transaction that needs them, so a job exists exactly when its data does.
import { Logger as WorkerLogger, run, runMigrations, type Runner, type TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { Pool, Queryable } from '../db/pool';

const QUEUE_MIGRATION_LOCK = 7_314_160; // next to the schema migrations' lock key

/**
 * graphile-worker's own migrations are not safe to start concurrently on a fresh database
 * (two `CREATE SCHEMA IF NOT EXISTS` race), so processes starting together take turns under
 * an advisory lock. The lock is held on its own connection; the migration uses another.
 */
export async function migrateQueue(pool: Pool): Promise<void> {
  const lock = await pool.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [QUEUE_MIGRATION_LOCK]);
    await runMigrations({ pgPool: pool, logger: silentLogger });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [QUEUE_MIGRATION_LOCK]).catch(() => {});
    lock.release();
  }
}

export async function enqueue(
  db: Queryable,
  task: string,
  payload: Record<string, unknown>,
  options: { jobKey?: string; maxAttempts?: number } = {},
): Promise<void> {
  await db.query('SELECT graphile_worker.add_job($1, $2::json, job_key => $3, max_attempts => $4)', [
    task,
    JSON.stringify(payload),
    options.jobKey ?? null,
    options.maxAttempts ?? 25,
  ]);
}

export async function startWorker(pool: Pool, log: Logger, taskList: TaskList, concurrency: number): Promise<Runner> {
  return run({
    pgPool: pool,
    taskList,
    concurrency,
    noHandleSignals: true, // the service shuts the worker down itself, in order
    pollInterval: 1000,
    // No recurring tasks (yet): without this graphile-worker looks for a ./crontab file in
    // whatever folder the service was started from.
    parsedCronItems: [],
    logger: pinoLogger(log),
  });
}

function pinoLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    log[method]({ job: meta }, message);
  });
}

const silentLogger = new WorkerLogger(() => () => {});
