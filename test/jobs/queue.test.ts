// The job queue: a job exists exactly when the transaction that enqueued it commits, and the
// worker runs it. Real graphile-worker on this file's own database.
import { Type } from '@sinclair/typebox';
import { quickAddJob } from 'graphile-worker';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Worker } from '../../src/jobs/queue';
import { generateBatchJob } from '../../src/codes/batches.job';
import { transaction } from '../../src/db/pool';
import { defineJob, taskList } from '../../src/jobs/job';
import { startWorker } from '../../src/jobs/queue';
import { sendAlertJob } from '../../src/notify/alerts';
import { useTestApp } from '../support/context';
import { eventually, jobContext, startTestWorker } from '../support/worker';

const t = useTestApp();
const silent = pino({ level: 'silent' });
const context = jobContext(t.pool);
const Empty = Type.Object({});
const Named = Type.Object({ n: Type.String() });

async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const jobCount = async (task: string) =>
  Number(
    (await t.pool.query(`SELECT count(*) FROM graphile_worker.jobs WHERE task_identifier = $1`, [task])).rows[0].count,
  );

let runner: Worker | null = null;
afterEach(async () => {
  await runner?.stop();
  runner = null;
});

describe('job queue', () => {
  it('runs a job enqueued in a committed transaction and never one whose transaction rolled back', async () => {
    const ran: unknown[] = [];
    const job = defineJob('test_task', Type.Object({ marker: Type.String() }), async (payload) => {
      ran.push(payload);
    });
    // Enqueued before the worker starts, rolled-back first: were it stored, it would run first.
    await expect(
      transaction(t.pool, async (tx) => {
        await job.enqueue(tx, { marker: 'rolled-back' });
        throw new Error('abort the unit of work');
      }),
    ).rejects.toThrow('abort the unit of work');
    expect(await jobCount('test_task')).toBe(0);

    await transaction(t.pool, (tx) => job.enqueue(tx, { marker: 'committed-1' }));
    expect(await jobCount('test_task')).toBe(1);

    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    await until('the committed job to run', () => ran.length >= 1);

    // A job enqueued while the worker runs is picked up too (LISTEN/NOTIFY or polling).
    await transaction(t.pool, (tx) => job.enqueue(tx, { marker: 'committed-2' }));
    await until('the second committed job to run', () => ran.length >= 2);
    await until('finished jobs to be removed', async () => (await jobCount('test_task')) === 0);

    expect(ran).toEqual([{ marker: 'committed-1' }, { marker: 'committed-2' }]);
  });

  it('keeps a job that is enqueued but not yet committed invisible to the worker', async () => {
    const ran: string[] = [];
    const job = defineJob('held_task', Named, async ({ n }) => {
      ran.push(n);
    });
    runner = await startWorker(t.pool, silent, taskList([job], context), { concurrency: 1 });
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await job.enqueue(client, { n: 'held' });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than the poll interval
      expect(ran).toEqual([]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await until('the job to run after commit', () => ran.length === 1);
    expect(ran).toEqual(['held']);
  });

  it('retries a failing job, recording the error, and replaces a pending job with the same key', async () => {
    let attempts = 0;
    const flaky = defineJob('flaky', Empty, async () => {
      attempts++;
      throw new Error('smtp down');
    });
    runner = await startWorker(t.pool, silent, taskList([flaky], context), { concurrency: 1 });
    await transaction(t.pool, (tx) => flaky.enqueue(tx, {}, { maxAttempts: 1 }));
    await until('the job to fail', async () => {
      const { rows } = await t.pool.query(
        `SELECT attempts, last_error FROM graphile_worker.jobs WHERE task_identifier = 'flaky'`,
      );
      return rows[0]?.attempts === 1 && String(rows[0].last_error).includes('smtp down');
    });
    expect(attempts).toBe(1);
    await runner.stop();
    runner = null;

    const keyed = defineJob('keyed', Type.Object({ n: Type.Integer() }), async () => {});
    for (const n of [1, 2, 3]) await transaction(t.pool, (tx) => keyed.enqueue(tx, { n }, { jobKey: 'one-per-key' }));
    // The public jobs view omits payloads; the private table holds them.
    const { rows } = await t.pool.query(
      `SELECT j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks k ON k.id = j.task_id
        WHERE k.identifier = 'keyed'`,
    );
    expect(rows.map((r) => r.payload)).toEqual([{ n: 3 }]);
  });

  it('lets a running job finish when the worker stops', async () => {
    let finished = false;
    let started = false;
    const slow = defineJob('slow', Empty, async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 800));
      finished = true;
    });
    runner = await startWorker(t.pool, silent, taskList([slow], context), { concurrency: 1 });
    await transaction(t.pool, (tx) => slow.enqueue(tx, {}));
    await until('the slow job to start', () => started);
    await runner.stop();
    runner = null;
    expect(finished).toBe(true);
    expect(await jobCount('slow')).toBe(0);
  });
});

describe('dead and live workers', () => {
  it('never takes a job away from a live worker, however long it runs', async () => {
    let starts = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const long = defineJob('long_task', Empty, async () => {
      starts++;
      await held;
    });
    runner = await startWorker(t.pool, silent, taskList([long], context), { concurrency: 2, deadAfterSeconds: 1 });
    await transaction(t.pool, (tx) => long.enqueue(tx, {}));
    await until('the long job to start', () => starts === 1);
    await new Promise((resolve) => setTimeout(resolve, 3500)); // > 3 × WORKER_DEAD_AFTER of 1 s
    expect(starts).toBe(1);
    const { rows } = await t.pool.query(
      `SELECT locked_by FROM graphile_worker.jobs WHERE task_identifier = 'long_task'`,
    );
    expect(rows[0].locked_by).not.toBeNull();
    release();
    await until('the long job to finish', async () => (await jobCount('long_task')) === 0);
  });

  it('hands the job of a worker that stopped beating to a live one', async () => {
    const ran: string[] = [];
    const orphan = defineJob('orphan_task', Named, async ({ n }) => {
      ran.push(n);
    });
    await transaction(t.pool, (tx) => orphan.enqueue(tx, { n: 'x' }));
    // A worker that locked the job and died: locked long ago, no heartbeat.
    await t.pool.query(
      `UPDATE graphile_worker._private_jobs
                           SET locked_by = 'worker-gone', locked_at = now() - interval '1 minute'
                         WHERE task_id = (SELECT id FROM graphile_worker._private_tasks WHERE identifier = $1)`,
      [orphan.name],
    );
    runner = await startWorker(t.pool, silent, taskList([orphan], context), { concurrency: 1, deadAfterSeconds: 2 });
    await until('the orphaned job to run', () => ran.length === 1);
    expect(ran).toEqual(['x']);
  });
});

describe('a job whose payload does not match its schema', () => {
  it('fails for good with the reason, while the worker goes on with other jobs', async () => {
    // Rows as another program or an older release might add them: graphile-worker's own addJob
    // (whose types, read off the jobs' schemas, refuse this payload) and its SQL.
    // @ts-expect-error: batch_id is a numeric id as text
    await quickAddJob({ pgPool: t.pool }, 'generate_batch', { batch_id: 42 });
    await t.pool.query(`SELECT graphile_worker.add_job('send_alert', '{"kind": "coupon", "id": "7"}'::json)`);
    runner = await startTestWorker(t);
    const failed = async () =>
      (
        await t.pool.query<{ task_identifier: string; attempts: number; max_attempts: number; last_error: string }>(
          `SELECT task_identifier, attempts, max_attempts, last_error FROM graphile_worker.jobs
            WHERE task_identifier = ANY($1) AND key IS NULL AND locked_at IS NULL AND last_error IS NOT NULL
            ORDER BY task_identifier`,
          [[generateBatchJob.name, sendAlertJob.name]],
        )
      ).rows;
    await eventually(async () => (await failed()).length === 2, 15_000, 'both jobs to fail');
    expect(await failed()).toEqual([
      {
        task_identifier: 'generate_batch',
        attempts: 25,
        max_attempts: 25,
        last_error: 'generate_batch: the payload does not match its schema (/batch_id: Expected string)',
      },
      {
        task_identifier: 'send_alert',
        attempts: 25,
        max_attempts: 25,
        last_error: expect.stringMatching(/^send_alert: the payload does not match its schema \(\/kind: /),
      },
    ]);

    // The same worker, its slots all running, makes a batch meanwhile.
    const list = await t.call('admin', {
      method: 'POST',
      url: '/v1/lists',
      payload: { name: 'After a bad job', type: 'single_use', outcome: { tags: ['x'] } },
    });
    const batch = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.data.id}/batches`,
      payload: { count: 50 },
    });
    expect(batch.statusCode).toBe(202);
    await eventually(
      async () =>
        (await t.call('agent', { method: 'GET', url: `/v1/batches/${batch.data.id}` })).data.status === 'active',
      15_000,
      'the batch to be made',
    );
    expect(runner.state()).toEqual({ slots: 2, running: 2, restarts: 0 });
    expect((await failed()).map((job) => job.attempts)).toEqual([25, 25]); // never tried again
  });
});
