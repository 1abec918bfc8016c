// A job meets a database restart mid-work: it waits the outage out inside its attempt and then
// finishes, its one allowed attempt not used up. Real graphile-worker on a cluster of this file's
// own, restarted -m immediate while the job's query runs.
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, transaction, type Pool } from '../../src/db/pool';
import { migrate } from '../../src/db/migrate';
import { defineJob, taskList } from '../../src/jobs/job';
import { migrateQueue, startWorker, type Worker } from '../../src/jobs/queue';
import { eventually, jobContext } from '../support/worker';
import { startFaultCluster, type FaultCluster } from './cluster';

let cluster: FaultCluster;
let pool: Pool;
let worker: Worker | null = null;
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

beforeAll(async () => {
  cluster = await startFaultCluster();
  pool = createPool(cluster.url, 5);
  await migrate(pool);
  await migrateQueue(pool);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await cluster?.stop();
});

it('waits out a database restart inside the attempt, then finishes the job', async () => {
  let tries = 0;
  let failures = 0;
  const job = defineJob(
    'slow_query',
    Type.Object({}),
    async () => {
      tries++;
      await pool.query('SELECT pg_sleep($1)', [tries === 1 ? 30 : 0]); // the first try is cut by the restart
    },
    { fail: async () => void failures++ },
  );
  worker = await startWorker(pool, silent, taskList([job], jobContext(pool)), { concurrency: 1 });
  await transaction(pool, (tx) => job.enqueue(tx, {}, { maxAttempts: 1 }));
  await eventually(async () => tries === 1, 10_000, 'the job to start');
  await cluster.restart('immediate', 2000);
  await eventually(
    async () =>
      Number(
        (await pool.query(`SELECT count(*) AS n FROM graphile_worker.jobs`).catch(() => ({ rows: [{ n: 1 }] }))).rows[0]
          .n,
      ) === 0,
    60_000,
    'the job to complete',
  );
  expect(tries).toBeGreaterThanOrEqual(2);
  expect(failures).toBe(0);
}, 120_000);
