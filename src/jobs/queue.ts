// The durable job queue (graphile-worker) in the service's own PostgreSQL. Jobs (job.ts) are
// added with SQL inside the transaction that needs them, so a job exists exactly when its data does.
import { EventEmitter } from 'node:events';
import {
  Logger as WorkerLogger,
  parseCronItems,
  run,
  runMigrations,
  type CronItem,
  type JobHelpers,
  type Runner,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/errors';
import { transaction, withClient, type Pool, type Queryable } from '../db/pool';

const QUEUE_MIGRATION_LOCK = 7_314_160; // next to the schema migrations' lock key

/**
 * graphile-worker's own migrations are not safe to start concurrently on a fresh database
 * (two `CREATE SCHEMA IF NOT EXISTS` race), so processes starting together take turns under
 * an advisory lock. The lock is held on its own connection; the migration uses another.
 */
export async function migrateQueue(pool: Pool): Promise<void> {
  await withClient(pool, async (lock) => {
    await lock.query('SELECT pg_advisory_lock($1)', [QUEUE_MIGRATION_LOCK]);
    try {
      await runMigrations({ pgPool: pool, logger: silentLogger });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [QUEUE_MIGRATION_LOCK]).catch(() => {});
    }
  });
}

/**
 * What a task does when its work fails. Interruptions never count as failures: a lost database
 * connection is waited out inside the same attempt, and a shutdown (the abort signal) hands the
 * job back as a fresh job (a new row with the same key, run at once, attempts from zero), so that
 * any worker resumes it. Other errors are retried by graphile-worker with its backoff; the last
 * attempt's error goes to `fail` (for example marking a batch failed) when there is one.
 */
export interface TaskHandlers<P> {
  work: (payload: P, signal: AbortSignal | undefined) => Promise<void>;
  fail?: (payload: P, error: Error) => Promise<void>;
}

/** Wait between tries while the database is unreachable: doubling from 0.5 s up to 10 s. */
const OUTAGE_WAIT_MS = { first: 500, most: 10_000 };

export function resilientTask<P>(
  log: Logger,
  { work, fail }: TaskHandlers<P>,
): (payload: P, helpers: JobHelpers) => Promise<void> {
  return async (payload, helpers) => {
    const signal = helpers.abortSignal;
    for (let wait = OUTAGE_WAIT_MS.first; ; wait = Math.min(wait * 2, OUTAGE_WAIT_MS.most)) {
      try {
        await work(payload, signal);
        return;
      } catch (error) {
        if (signal?.aborted) return handBack(helpers, log, error as Error);
        // An error that looks like an outage while the database answers (a protocol error of
        // our own, an SMTP timeout) is a failure like any other, not something to wait out.
        if (!isDatabaseUnavailable(error) || (await databaseAnswers(helpers))) {
          if (!fail || helpers.job.attempts < helpers.job.max_attempts) throw error;
          return fail(payload, error as Error);
        }
        log.warn(
          { job: helpers.job.id, task: helpers.job.task_identifier, err: error, retryInMs: wait },
          'database unavailable; the job waits for it',
        );
        await sleep(wait, signal);
      }
    }
  };
}

const databaseAnswers = (helpers: JobHelpers) =>
  helpers.query('SELECT 1').then(
    () => true,
    () => false,
  );

/**
 * Re-adds the job as new, with the same key and payload, while its row is still this worker's
 * (locked, so that graphile-worker takes the key off it; the row completes when this task
 * returns). A row no longer this worker's was handed to another already; then this task fails
 * instead, which graphile-worker records only on a row it still holds, so the row is neither
 * completed (deleted) nor retried from here. If the database cannot take it, the error goes
 * back to graphile-worker, which retries the job as usual.
 */
async function handBack(helpers: JobHelpers, log: Logger, cause: Error): Promise<void> {
  const { job } = helpers;
  let handed = false;
  try {
    handed = await helpers.withPgClient(async (client) => {
      await client.query('BEGIN');
      try {
        const { rowCount } = await client.query(
          'SELECT FROM graphile_worker._private_jobs WHERE id = $1 AND locked_by = $2 FOR UPDATE',
          [job.id, job.locked_by],
        );
        if (rowCount === 1) {
          await client.query('SELECT graphile_worker.add_job($1, $2::json, job_key => $3, max_attempts => $4)', [
            job.task_identifier,
            JSON.stringify(job.payload),
            job.key,
            job.max_attempts,
          ]);
        }
        await client.query('COMMIT');
        return rowCount === 1;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  } catch {
    throw cause;
  }
  if (!handed) throw new Error(`job ${job.id} was handed to another worker already`, { cause });
  log.info({ job: job.id, task: job.task_identifier }, 'job handed back at shutdown; it resumes where it stopped');
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/** The work whose row (`status = 'pending'`) a keyed job carries out. */
const JOB_OWNERS = { batch: 'batches', import: 'imports' } as const;

/** The key of the one job that makes a batch or processes an import. */
export const jobKey = (kind: keyof typeof JOB_OWNERS, id: string) => `${kind}:${id}`;

/**
 * Pending batches or imports whose job will never run again (its attempts are used up: the
 * last one was cut short, or recording the failure failed too), with the job's last error.
 */
export async function findAbandoned(
  db: Queryable,
  kind: keyof typeof JOB_OWNERS,
): Promise<{ id: string; last_error: string | null }[]> {
  const { rows } = await db.query<{ id: string; last_error: string | null }>(
    `SELECT w.id, j.last_error
       FROM ${JOB_OWNERS[kind]} w
       LEFT JOIN graphile_worker.jobs j ON j.key = $1 || w.id -- jobKey(kind, id)
      WHERE w.status = 'pending' AND w.created_at < now() - interval '1 minute'
        AND (j.id IS NULL OR j.attempts >= j.max_attempts) AND j.locked_at IS NULL`,
    [`${kind}:`],
  );
  return rows;
}

/** How often a worker process says it is alive. */
const HEARTBEAT_MS = 5_000;
/** A worker slot that ended is started again after this long, doubling up to the most. */
const RESTART_WAIT_MS = { first: 500, most: 30_000 };
/** A slot that has run this long without ending is healthy again: its next restart is quick. */
const HEALTHY_AFTER_MS = 60_000;

export interface WorkerState {
  /** Slots (jobs run at once) asked for. */
  slots: number;
  /** Slots whose graphile-worker runner is up and taking jobs. */
  running: number;
  /** Slots started again after they ended unexpectedly, since the process started. */
  restarts: number;
}

export interface Worker {
  state(): WorkerState;
  /** Stops taking jobs; running jobs stop at their next safe point and are handed back, or finish. */
  stop(): Promise<void>;
  /**
   * For a shutdown whose deadline is near: the jobs this process holds are handed back at once,
   * so that another worker resumes them now rather than after WORKER_DEAD_AFTER. Whatever this
   * process still writes for them is safe to repeat (a batch's row lock and room, an import's
   * staged lines).
   */
  handBackRunning(): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
  /** A job locked this long by a worker with no heartbeat for as long is handed to another. */
  deadAfterSeconds?: number;
  schedule?: CronItem[];
  /** How long a running job may go on once shutdown begins before it is asked to stop at a safe point. */
  shutdownAbortMs?: number;
  /** First wait before a slot that ended is started again (doubling up to 30 s). */
  restartWaitMs?: number;
}

/**
 * Runs the task list, one graphile-worker runner per slot (one job at a time each), supervised:
 * graphile-worker ends a slot for good when it cannot record a job's result (the database went
 * away at that moment), and a runner whose connection fails may end too. Such a slot is started
 * again, with backoff, and the job it held is handed back at once. Each worker records a
 * heartbeat; a job locked for longer than `deadAfterSeconds` by a worker with no heartbeat for as
 * long (its process was killed) is unlocked so that a live worker resumes it, instead of after
 * graphile-worker's 4-hour lock expiry.
 */
export async function startWorker(
  pool: Pool,
  log: Logger,
  taskList: TaskList,
  options: WorkerOptions,
): Promise<Worker> {
  const {
    concurrency,
    deadAfterSeconds = 30,
    schedule = [],
    shutdownAbortMs = 0,
    restartWaitMs = RESTART_WAIT_MS.first,
  } = options;
  const heartbeatMs = Math.min(HEARTBEAT_MS, (deadAfterSeconds * 1000) / 3);
  let stopping = false;
  let restarts = 0;
  /** Workers of this process that ended with a job possibly still locked: unlocked at the next beat. */
  const orphaned = new Set<string>();

  class Slot {
    runner: Runner | null = null;
    workerId: string | null = null;
    private wait = restartWaitMs;
    private timer: NodeJS.Timeout | null = null;
    private generation = 0;

    constructor(private readonly index: number) {}

    private starting: Promise<void> | null = null;

    start(): Promise<void> {
      const starting = this.startRunner().finally(() => {
        if (this.starting === starting) this.starting = null;
      });
      this.starting = starting;
      return starting;
    }

    private async startRunner(): Promise<void> {
      const generation = ++this.generation;
      const events: WorkerEvents = new EventEmitter();
      // Workers are created while run() starts, so the listeners go on an emitter passed in.
      events.on('worker:create', ({ worker }) => {
        this.workerId = worker.workerId;
      });
      let endedEarly = null as { workerId: string; error: unknown } | null;
      events.on('worker:stop', ({ worker, error }) => {
        if (generation !== this.generation || stopping) return;
        if (this.runner) this.ended(worker.workerId, error);
        else endedEarly = { workerId: worker.workerId, error }; // while run() was still starting
      });
      const runner = await run({
        events,
        pgPool: pool,
        taskList,
        concurrency: 1,
        noHandleSignals: true, // the service shuts the worker down itself, in order
        pollInterval: 1000,
        gracefulShutdownAbortTimeout: shutdownAbortMs,
        // Recurring tasks come from the task list's owner, on one slot; without this
        // graphile-worker would look for a ./crontab file in whatever folder the service was started from.
        parsedCronItems: parseCronItems(this.index === 0 ? schedule : []),
        logger: pinoLogger(log),
      });
      runner.promise.then(
        () => generation === this.generation && !stopping && this.ended(this.workerId, new Error('the runner stopped')),
        (error: unknown) => generation === this.generation && !stopping && this.ended(this.workerId, error),
      );
      if (stopping || generation !== this.generation) {
        await runner.stop().catch(() => {}); // stopped while it was starting
        return;
      }
      this.runner = runner;
      if (endedEarly) return this.ended(endedEarly.workerId, endedEarly.error);
      const startedAt = Date.now();
      setTimeout(() => {
        if (generation === this.generation && this.runner && Date.now() - startedAt >= HEALTHY_AFTER_MS)
          this.wait = restartWaitMs;
      }, HEALTHY_AFTER_MS).unref();
    }

    /** The slot's worker or runner ended while the process is not stopping: start it again. */
    private ended(workerId: string | null, error: unknown): void {
      if (!this.runner) return; // already being restarted
      const runner = this.runner;
      this.runner = null;
      this.workerId = null;
      this.generation++;
      restarts++;
      log.error(
        { err: error, slot: this.index, retryInMs: this.wait },
        'a worker slot ended unexpectedly; starting it again',
      );
      // Stopping releases its connections (the runner may have stopped already) and lets a job
      // it still runs end; only then is what it held handed back, at the next beat.
      void runner
        .stop()
        .catch(() => {})
        .finally(() => workerId && orphaned.add(workerId));
      this.scheduleStart();
    }

    scheduleStart(): void {
      const wait = this.wait;
      this.wait = Math.min(this.wait * 2, RESTART_WAIT_MS.most);
      this.timer = setTimeout(() => {
        this.timer = null;
        if (stopping) return;
        this.start().catch((error: unknown) => {
          log.warn({ err: error, slot: this.index }, 'a worker slot could not start; trying again');
          this.scheduleStart();
        });
      }, wait);
      this.timer.unref();
    }

    async stop(): Promise<void> {
      if (this.timer) clearTimeout(this.timer);
      this.generation++;
      await this.starting?.catch(() => {}); // a runner still starting stops itself once started
      const runner = this.runner;
      this.runner = null;
      await runner?.stop().catch(() => {});
    }
  }

  const slots = Array.from({ length: concurrency }, (_, i) => new Slot(i));
  await Promise.all(slots.map((slot) => slot.start()));
  const liveIds = () => slots.map((slot) => slot.workerId).filter((id): id is string => id !== null);

  // After an outage no worker could beat, so every heartbeat looks stale for a while: jobs are
  // taken from silent workers only by a process whose own beats have gone through without a
  // break for longer than deadAfterSeconds, by when any live worker has beaten again too.
  let beatingSince: number | null = null;
  const beat = async () => {
    try {
      beatingSince ??= Date.now();
      await pool.query(
        `INSERT INTO worker_heartbeats (worker_id) SELECT unnest($1::text[])
         ON CONFLICT (worker_id) DO UPDATE SET seen_at = now()`,
        [liveIds()],
      );
      if (orphaned.size) {
        const ids = [...orphaned];
        await handBackJobsOf(pool, ids);
        for (const id of ids) orphaned.delete(id);
        log.warn({ workers: ids }, 'handed back the jobs of worker slots that ended');
      }
      if (Date.now() - beatingSince > deadAfterSeconds * 1000)
        await reclaimJobsOfDeadWorkers(pool, log, deadAfterSeconds);
    } catch (error) {
      beatingSince = null;
      log.warn({ err: error }, 'worker heartbeat failed');
    }
  };
  await beat();
  const timer = setInterval(() => void beat(), heartbeatMs);
  timer.unref();
  return {
    state: () => ({ slots: concurrency, running: slots.filter((slot) => slot.runner !== null).length, restarts }),
    async stop() {
      stopping = true;
      clearInterval(timer);
      const ids = liveIds();
      await Promise.all(slots.map((slot) => slot.stop()));
      await pool.query('DELETE FROM worker_heartbeats WHERE worker_id = ANY($1)', [ids]).catch(() => {});
    },
    async handBackRunning() {
      const ids = [...liveIds(), ...orphaned];
      if (ids.length) await handBackJobsOf(pool, ids);
    },
  };
}

/**
 * Unlocks the jobs of workers known to be gone and lets them run again at once, their attempt
 * not counted: a job interrupted by a killed process or a lost connection has not failed, even
 * on its last attempt. Not so a row that a handed-back copy replaced (add_job took its key and
 * used up its attempts): it stays done.
 */
async function handBackJobsOf(pool: Pool, workerIds: string[]): Promise<number> {
  return transaction(pool, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM graphile_worker.jobs
        WHERE locked_by = ANY($1::text[]) AND (key IS NOT NULL OR attempts < max_attempts)`,
      [workerIds],
    );
    await tx.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [workerIds]);
    if (rows.length) {
      await tx.query('SELECT FROM graphile_worker.reschedule_jobs($1::bigint[], run_at => now(), attempts => 0)', [
        rows.map((r) => r.id),
      ]);
    }
    return rows.length;
  });
}

async function reclaimJobsOfDeadWorkers(pool: Pool, log: Logger, deadAfterSeconds: number): Promise<string[]> {
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
    await handBackJobsOf(pool, dead);
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
