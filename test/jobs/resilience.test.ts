// Jobs survive what a database restart, a lost connection or a shutdown does to them: a worker
// slot that graphile-worker ends is started again and its job handed back, interruptions never
// use up a job's attempts, and a batch whose job gave up is marked failed, never left pending.
// Real graphile-worker on this file's own database.
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { transaction } from '../../src/db/pool';
import { defineJob, taskList } from '../../src/jobs/job';
import { startWorker, type Worker } from '../../src/jobs/queue';
import { failAbandonedBatches } from '../../src/codes/batches.job';
import { useTestApp } from '../support/context';
import { eventually, jobContext } from '../support/worker';

const t = useTestApp();
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const context = jobContext(t.pool);
const Empty = Type.Object({});
const Named = Type.Object({ n: Type.String() });

let runner: Worker | null = null;
afterEach(async () => {
  await runner?.stop();
  runner = null;
  await t.pool.query('DROP TRIGGER IF EXISTS refuse_completion ON graphile_worker._private_jobs');
});

const jobRows = async (task: string) =>
  (
    await t.pool.query<{
      attempts: number;
      max_attempts: number;
      key: string | null;
      locked_by: string | null;
      last_error: string | null;
    }>(
      `SELECT j.attempts, j.max_attempts, j.key, j.locked_by, j.last_error
         FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id
        WHERE k.identifier = $1 ORDER BY j.id`,
      [task],
    )
  ).rows;

describe('a worker slot that graphile-worker ends', () => {
  it('is started again, reported by /readyz and /metrics meanwhile, and its job runs to the end', async () => {
    // graphile-worker ends a slot for good when it cannot record a job's result (as when the
    // database goes away at that moment). A trigger refusing the job's deletion does the same.
    await t.pool.query(`
      CREATE OR REPLACE FUNCTION refuse_job_completion() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'completion refused'; END $$`);
    await t.pool.query(`CREATE TRIGGER refuse_completion BEFORE DELETE ON graphile_worker._private_jobs
                        FOR EACH ROW EXECUTE FUNCTION refuse_job_completion()`);
    let runs = 0;
    const once = defineJob('once', Empty, async () => {
      runs++;
    });
    runner = await startWorker(t.pool, silent, taskList([once], context), {
      concurrency: 2,
      deadAfterSeconds: 3,
      restartWaitMs: 1500,
    });
    t.app.worker = runner;
    try {
      expect((await t.call(null, { method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await transaction(t.pool, (tx) => once.enqueue(tx, {}, { jobKey: 'once', maxAttempts: 1 }));

      await eventually(async () => runner!.state().running === 1, 10_000, 'the slot to end');
      const down = await t.call(null, { method: 'GET', url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.data).toEqual({ status: 'worker_down' });
      await t.pool.query('DROP TRIGGER refuse_completion ON graphile_worker._private_jobs');

      await eventually(async () => runner!.state().running === 2, 10_000, 'the slot to start again');
      expect(runner.state().restarts).toBe(1);
      expect((await t.call(null, { method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const metrics = (await t.call(null, { method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^worker_slot_restarts_total 1$/m);
      expect(metrics).toMatch(/^worker_slots\{state="running"\} 2$/m);

      // Its job, still locked by the slot that ended, is handed back at once (not after
      // WORKER_DEAD_AFTER) with its attempt not counted, and completes: it had one attempt.
      await eventually(async () => (await jobRows('once')).length === 0, 10_000, 'the job to complete');
      expect(runs).toBe(2);
    } finally {
      t.app.worker = null;
    }
  });
});

describe('interruptions do not use up attempts', () => {
  it('runs a job again, attempts from zero, when the worker that held it died on its last attempt', async () => {
    const ran: string[] = [];
    const killed = defineJob('killed_task', Named, async ({ n }) => {
      ran.push(n);
    });
    await transaction(t.pool, (tx) => killed.enqueue(tx, { n: 'x' }, { jobKey: 'killed', maxAttempts: 3 }));
    // As a kill -9 leaves it: locked by a worker with no heartbeat, its attempts all counted.
    await t.pool.query(`UPDATE graphile_worker._private_jobs
                           SET locked_by = 'worker-killed', locked_at = now() - interval '1 minute', attempts = 3
                         WHERE key = 'killed'`);
    runner = await startWorker(t.pool, silent, taskList([killed], context), { concurrency: 1, deadAfterSeconds: 2 });
    await eventually(async () => ran.length === 1, 15_000, 'the killed job to run again');
    await eventually(async () => (await jobRows('killed_task')).length === 0, 10_000, 'the job to complete');
    expect(ran).toEqual(['x']);
  });

  it('hands a job back at shutdown, on its last attempt too, unfailed; another worker finishes it', async () => {
    const failed: string[] = [];
    let started = 0;
    let finished = 0;
    const job = defineJob(
      'long_job',
      Named,
      async (_payload, { signal }) => {
        started++;
        if (started === 1) {
          await new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true }));
          throw new Error('interrupted by shutdown');
        }
        finished++;
      },
      { fail: async ({ n }) => void failed.push(n) },
    );
    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1, shutdownAbortMs: 200 });
    await transaction(t.pool, (tx) => job.enqueue(tx, { n: 'a' }, { jobKey: 'long', maxAttempts: 1 }));
    await eventually(async () => started === 1, 10_000, 'the job to start');
    await runner.stop();
    runner = null;

    expect(failed).toEqual([]);
    const rows = await jobRows('long_job');
    expect(rows).toEqual([{ attempts: 0, max_attempts: 1, key: 'long', locked_by: null, last_error: null }]);

    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    await eventually(async () => (await jobRows('long_job')).length === 0, 10_000, 'the handed-back job to complete');
    expect(finished).toBe(1);
    expect(failed).toEqual([]);
  });

  it('at shutdown, leaves alone a job handed to another worker meanwhile (neither completed nor failed)', async () => {
    let started = 0;
    let finished = 0;
    const job = defineJob(
      'taken_job',
      Empty,
      async (_payload, { signal }) => {
        if (++started === 1) {
          // While this runs, the job is handed back from elsewhere (a deadline, a reclaim).
          await t.pool.query(
            `SELECT graphile_worker.force_unlock_workers(array_agg(locked_by))
               FROM graphile_worker.jobs WHERE key = 'taken'`,
          );
          await new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true }));
          throw new Error('interrupted by shutdown');
        }
        finished++;
      },
      {
        fail: async () => {
          throw new Error('never called');
        },
      },
    );
    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    await transaction(t.pool, (tx) => job.enqueue(tx, {}, { jobKey: 'taken', maxAttempts: 5 }));
    await eventually(
      async () => started === 1 && (await jobRows('taken_job'))[0]?.locked_by === null,
      10_000,
      'the job to be taken away',
    );
    await runner.stop();
    runner = null;
    // One row, still there to run: not deleted as completed, not doubled by a hand-back.
    expect((await jobRows('taken_job')).map((r) => [r.key, r.locked_by])).toEqual([['taken', null]]);
    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    await eventually(async () => (await jobRows('taken_job')).length === 0, 10_000, 'the job to complete');
    expect(finished).toBe(1);
  });

  it('treats an error that looks like an outage as a failure while the database answers', async () => {
    const failed: string[] = [];
    const job = defineJob(
      'smtp_timeout',
      Empty,
      async () => {
        throw Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT' }); // as nodemailer says it
      },
      { fail: async (_p, error) => void failed.push(error.message) },
    );
    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    await transaction(t.pool, (tx) => job.enqueue(tx, {}, { maxAttempts: 1 }));
    await eventually(async () => (await jobRows('smtp_timeout')).length === 0, 10_000, 'the job to end');
    expect(failed).toEqual(['Greeting never received']);
  });

  it('still fails a job whose own work fails on every attempt, calling fail once', async () => {
    const failed: string[] = [];
    const job = defineJob(
      'doomed',
      Named,
      async () => {
        throw new Error('the format is exhausted');
      },
      { fail: async ({ n }, error) => void failed.push(`${n}: ${error.message}`) },
    );
    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    await transaction(t.pool, (tx) => job.enqueue(tx, { n: 'b' }, { maxAttempts: 1 }));
    await eventually(async () => (await jobRows('doomed')).length === 0, 10_000, 'the job to end');
    expect(failed).toEqual(['b: the format is exhausted']);
  });
});

describe('a batch whose job gave up', () => {
  it('is marked failed with the job error, giving its format room back; one whose job lives stays', async () => {
    const list = await t.call('admin', {
      method: 'POST',
      url: '/v1/lists',
      payload: { name: 'Abandoned', type: 'single_use', outcome: { tags: ['x'] } },
    });
    const format = { length: 8, charset: 'numeric' };
    const reserved = async () =>
      Number((await t.pool.query(`SELECT coalesce(sum(reserved), 0) AS r FROM code_formats`)).rows[0].r);
    const before = await reserved();
    const given = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.data.id}/batches`,
      payload: { count: 500, format },
    });
    const alive = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.data.id}/batches`,
      payload: { count: 300, format },
    });
    expect(await reserved()).toBe(before + 800);
    // The first batch's job used its last attempt (a process killed during it) a while ago.
    await t.pool.query(`UPDATE batches SET created_at = now() - interval '5 minutes' WHERE id = ANY($1)`, [
      [given.data.id, alive.data.id],
    ]);
    await t.pool.query(
      `UPDATE graphile_worker._private_jobs
          SET attempts = max_attempts, last_error = 'Connection terminated unexpectedly' WHERE key = $1`,
      [`batch:${given.data.id}`],
    );

    expect(await failAbandonedBatches(t.pool)).toBe(1);
    const failed = (await t.call('agent', { method: 'GET', url: `/v1/batches/${given.data.id}` })).data;
    expect(failed).toMatchObject({ status: 'failed', error: 'generation failed: Connection terminated unexpectedly' });
    expect((await t.call('agent', { method: 'GET', url: `/v1/batches/${alive.data.id}` })).data.status).toBe('pending');
    expect(await reserved()).toBe(before + 300);
    expect(await failAbandonedBatches(t.pool)).toBe(0);
  });
});
