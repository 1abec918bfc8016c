// The job queue: a job exists exactly when the transaction that enqueued it commits, and the
// worker runs it. Real graphile-worker on this file's own database.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Worker } from '../../src/jobs/queue';
import { transaction } from '../../src/db/pool';
import { enqueue, startWorker } from '../../src/jobs/queue';
import { useTestApp } from '../support/context';

const t = useTestApp();
const silent = pino({ level: 'silent' });

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
    // Enqueued before the worker starts, rolled-back first: were it stored, it would run first.
    await expect(
      transaction(t.pool, async (tx) => {
        await enqueue(tx, 'test_task', { marker: 'rolled-back' });
        throw new Error('abort the unit of work');
      }),
    ).rejects.toThrow('abort the unit of work');
    expect(await jobCount('test_task')).toBe(0);

    await transaction(t.pool, (tx) => enqueue(tx, 'test_task', { marker: 'committed-1' }));
    expect(await jobCount('test_task')).toBe(1);

    runner = await startWorker(
      t.pool,
      silent,
      { test_task: async (payload) => void ran.push(payload) },
      { concurrency: 1 },
    );
    await until('the committed job to run', () => ran.length >= 1);

    // A job enqueued while the worker runs is picked up too (LISTEN/NOTIFY or polling).
    await transaction(t.pool, (tx) => enqueue(tx, 'test_task', { marker: 'committed-2' }));
    await until('the second committed job to run', () => ran.length >= 2);
    await until('finished jobs to be removed', async () => (await jobCount('test_task')) === 0);

    expect(ran).toEqual([{ marker: 'committed-1' }, { marker: 'committed-2' }]);
  });

  it('keeps a job that is enqueued but not yet committed invisible to the worker', async () => {
    const ran: string[] = [];
    runner = await startWorker(
      t.pool,
      silent,
      { held_task: async (payload) => void ran.push((payload as { n: string }).n) },
      { concurrency: 1 },
    );
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await enqueue(client, 'held_task', { n: 'held' });
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
    runner = await startWorker(
      t.pool,
      silent,
      {
        flaky: async () => {
          attempts++;
          throw new Error('smtp down');
        },
      },
      { concurrency: 1 },
    );
    await transaction(t.pool, (tx) => enqueue(tx, 'flaky', {}, { maxAttempts: 1 }));
    await until('the job to fail', async () => {
      const { rows } = await t.pool.query(
        `SELECT attempts, last_error FROM graphile_worker.jobs WHERE task_identifier = 'flaky'`,
      );
      return rows[0]?.attempts === 1 && String(rows[0].last_error).includes('smtp down');
    });
    expect(attempts).toBe(1);
    await runner.stop();
    runner = null;

    for (const n of [1, 2, 3])
      await transaction(t.pool, (tx) => enqueue(tx, 'keyed', { n }, { jobKey: 'one-per-key' }));
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
    runner = await startWorker(
      t.pool,
      silent,
      {
        slow: async () => {
          started = true;
          await new Promise((resolve) => setTimeout(resolve, 800));
          finished = true;
        },
      },
      { concurrency: 1 },
    );
    await transaction(t.pool, (tx) => enqueue(tx, 'slow', {}));
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
    runner = await startWorker(
      t.pool,
      silent,
      {
        long_task: async () => {
          starts++;
          await held;
        },
      },
      { concurrency: 2, deadAfterSeconds: 1 },
    );
    await transaction(t.pool, (tx) => enqueue(tx, 'long_task', {}));
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
    await transaction(t.pool, (tx) => enqueue(tx, 'orphan_task', { n: 'x' }));
    // A worker that locked the job and died: locked long ago, no heartbeat.
    await t.pool.query(`UPDATE graphile_worker._private_jobs SET locked_by = 'worker-gone', locked_at = now() - interval '1 minute'
                         WHERE task_id = (SELECT id FROM graphile_worker._private_tasks WHERE identifier = 'orphan_task')`);
    runner = await startWorker(
      t.pool,
      silent,
      { orphan_task: async (p) => void ran.push((p as { n: string }).n) },
      { concurrency: 1, deadAfterSeconds: 2 },
    );
    await until('the orphaned job to run', () => ran.length === 1);
    expect(ran).toEqual(['x']);
  });
});
