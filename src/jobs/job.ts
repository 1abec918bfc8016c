// A job is defined once, beside its feature: its name, its payload's schema and what it does.
// Enqueuing it takes the payload's type; running it checks the payload against the schema
// first, since a job row may come from elsewhere (an older release, graphile-worker's addJob,
// SQL), and a payload that can never be read fails for good at once rather than 25 times.
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { JobHelpers, Task, TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Pool, Queryable } from '../db/pool';
import type { Mailer } from '../notify/mailer';
import { metrics } from '../ops/metrics';
import { resilientTask } from './queue';

/** What the worker gives every job. */
export interface JobContext {
  pool: Pool;
  config: Readonly<Config>;
  log: Logger;
  mailer: Mailer;
}

/** What a run gets: the worker's context, and the signal that asks it to stop at a safe point (shutdown). */
export interface RunContext extends JobContext {
  signal: AbortSignal | undefined;
}

export interface EnqueueOptions {
  /** A pending job with the same key is replaced rather than doubled. */
  jobKey?: string;
  maxAttempts?: number;
  /** Jobs of one named queue run one at a time, in order. */
  queueName?: string;
  /** When to run it; now when not given. */
  runAt?: Date;
  /** What a pending job with the same key keeps: 'replace' its run_at (default), or 'preserve_run_at'. */
  jobKeyMode?: 'replace' | 'preserve_run_at';
}

export interface JobHandlers<P> {
  /** Called instead of a last retry when the last attempt fails (see resilientTask). */
  fail?: (payload: P, error: Error, context: JobContext) => Promise<void>;
}

export interface Job<N extends string = string, S extends TSchema = TSchema> {
  readonly name: N;
  readonly schema: S;
  /** Adds the job with the caller's handle: inside a transaction it exists exactly when the transaction commits. */
  enqueue(db: Queryable, payload: Static<S>, options?: EnqueueOptions): Promise<void>;
  /** The graphile-worker task, timed in the job_duration_seconds metric; it takes any payload and checks it. */
  task(context: JobContext): Task;
}

/**
 * A job's payload type, for graphile-worker's `GraphileWorker.Tasks`; read off the schema alone,
 * since the job's whole type refers to that interface and would make it circular.
 */
export type PayloadOf<J extends { schema: TSchema }> = Static<J['schema']>;

const DEFAULT_MAX_ATTEMPTS = 25; // graphile-worker's own default

export function defineJob<N extends string, S extends TSchema>(
  name: N,
  schema: S,
  run: (payload: Static<S>, context: RunContext) => Promise<void>,
  handlers: JobHandlers<Static<S>> = {},
): Job<N, S> {
  const check = TypeCompiler.Compile(schema);
  return {
    name,
    schema,
    async enqueue(db, payload, options = {}) {
      await db.query(
        `SELECT graphile_worker.add_job($1, $2::json, job_key => $3, max_attempts => $4, queue_name => $5,
                                        run_at => $6, job_key_mode => $7)`,
        [
          name,
          JSON.stringify(payload),
          options.jobKey ?? null,
          options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          options.queueName ?? null,
          options.runAt ?? null,
          options.jobKeyMode ?? 'replace',
        ],
      );
    },
    task(context) {
      const { fail } = handlers;
      const resilient = resilientTask<Static<S>>(context.log, {
        work: (payload, signal) => run(payload, { ...context, signal }),
        fail: fail && ((payload, error) => fail(payload, error, context)),
      });
      return timed(name, async (payload, helpers) => {
        if (check.Check(payload)) return resilient(payload, helpers);
        const problem = check.Errors(payload).First();
        const where = problem ? `${problem.path || '/'}: ${problem.message}` : 'it is not what the job reads';
        await failForGood(helpers, new Error(`${name}: the payload does not match its schema (${where})`));
      });
    },
  };
}

/**
 * Ends the attempt with `error` and uses up the job's attempts, so that graphile-worker keeps
 * the job, with the error, but never runs it again (as its permanently_fail_jobs does). Should
 * the database not take that, the job is only retried, and fails the same way.
 */
async function failForGood(helpers: JobHelpers, error: Error): Promise<never> {
  const { job } = helpers;
  await helpers
    .query('UPDATE graphile_worker._private_jobs SET attempts = max_attempts WHERE id = $1 AND locked_by = $2', [
      job.id,
      job.locked_by,
    ])
    .catch(() => {});
  throw error;
}

function timed(name: string, task: Task): Task {
  return async (payload, helpers) => {
    const end = metrics.jobDuration.startTimer({ task: name });
    try {
      await task(payload, helpers);
      end({ result: 'completed' });
    } catch (error) {
      end({ result: 'failed' });
      throw error;
    }
  };
}

/** The worker's task list: one task per job, each name once. */
export function taskList(jobs: readonly Job[], context: JobContext): TaskList {
  const list: TaskList = {};
  for (const job of jobs) {
    if (list[job.name]) throw new Error(`two jobs are named ${job.name}`);
    list[job.name] = job.task(context);
  }
  return list;
}
