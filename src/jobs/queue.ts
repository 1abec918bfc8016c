// The durable job queue (graphile-worker) in the service's own PostgreSQL. Jobs are added
// with SQL inside the transaction that needs them, so a job exists exactly when its data does.
import { EventEmitter } from 'node:events';
import { Logger as WorkerLogger, parseCronItems, run, runMigrations, type CronItem, type Runner, type Task, type TaskList, type WorkerEvents } from 'graphile-worker';
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

/**
 * A task that retries on error until its last attempt, whose failure is recorded by `fail`
 * (for example marking a batch failed) instead of being thrown again.
 */
export function failingOnLastAttempt<P>(
  parse: (payload: unknown) => P,
  work: (payload: P, signal: AbortSignal | undefined) => Promise<void>,
  fail: (payload: P, error: Error) => Promise<void>,
): Task {
  return async (raw, helpers) => {
    const payload = parse(raw);
    try {
      await work(payload, helpers.abortSignal);
    } catch (error) {
      if (helpers.job.attempts < helpers.job.max_attempts) throw error;
      await fail(payload, error as Error);
    }
  };
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

/** How often a worker process says it is alive. */
const HEARTBEAT_MS = 5_000;

export interface Worker {
  stop(): Promise<void>;
}

/**
 * Runs the task list. Each worker process records a heartbeat; a job locked for longer than
 * `deadAfterSeconds` by a worker with no heartbeat for as long (its process was killed) is
 * unlocked so that a live worker resumes it, instead of after graphile-worker's 4-hour lock expiry.
 */
export async function startWorker(
  pool: Pool,
  log: Logger,
  taskList: TaskList,
  concurrency: number,
  deadAfterSeconds = 30,
  schedule: CronItem[] = [],
): Promise<Worker> {
  const heartbeatMs = Math.min(HEARTBEAT_MS, (deadAfterSeconds * 1000) / 3);
  // Workers are created while run() starts, so the listeners go on an emitter passed in.
  const events: WorkerEvents = new EventEmitter();
  const workerIds = new Set<string>();
  events.on('worker:create', ({ worker }) => workerIds.add(worker.workerId));
  events.on('worker:stop', ({ worker }) => workerIds.delete(worker.workerId));
  const runner: Runner = await run({
    events,
    pgPool: pool,
    taskList,
    concurrency,
    noHandleSignals: true, // the service shuts the worker down itself, in order
    pollInterval: 1000,
    // Recurring tasks come from the task list's owner; without this graphile-worker would look
    // for a ./crontab file in whatever folder the service was started from.
    parsedCronItems: parseCronItems(schedule),
    logger: pinoLogger(log),
  });
  if (workerIds.size === 0) throw new Error('the job queue started no workers');

  const beat = async () => {
    try {
      await pool.query(
        `INSERT INTO worker_heartbeats (worker_id) SELECT unnest($1::text[])
         ON CONFLICT (worker_id) DO UPDATE SET seen_at = now()`,
        [[...workerIds]],
      );
      await reclaimJobsOfDeadWorkers(pool, log, deadAfterSeconds);
    } catch (error) {
      log.warn({ err: error }, 'worker heartbeat failed');
    }
  };
  await beat();
  const timer = setInterval(() => void beat(), heartbeatMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      const ids = [...workerIds];
      await runner.stop();
      await pool.query('DELETE FROM worker_heartbeats WHERE worker_id = ANY($1)', [ids]).catch(() => {});
    },
  };
}

export async function reclaimJobsOfDeadWorkers(pool: Pool, log: Logger, deadAfterSeconds: number): Promise<string[]> {
  const { rows } = await pool.query<{ locked_by: string }>(
    `SELECT DISTINCT j.locked_by
       FROM graphile_worker.jobs j
      WHERE j.locked_by IS NOT NULL
        AND j.locked_at < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM worker_heartbeats h
                         WHERE h.worker_id = j.locked_by AND h.seen_at > now() - make_interval(secs => $1))`,
    [deadAfterSeconds],
  );
  const dead = rows.map((r) => r.locked_by);
  if (dead.length) {
    await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [dead]);
    await pool.query(`DELETE FROM worker_heartbeats WHERE seen_at < now() - interval '1 day'`);
    log.warn({ workers: dead }, 'unlocked the jobs of workers that stopped without finishing them');
  }
  return dead;
}

function pinoLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    log[method]({ job: meta }, message);
  });
}

const silentLogger = new WorkerLogger(() => () => {});
