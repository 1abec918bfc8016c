// Crash safety of batch generation (docs/product.md): "a process killed at any moment loses nothing: on
// restart the job resumes and ends with exactly the requested number of distinct codes, never
// more". Real worker processes (`node --import tsx src/server.ts`, ROLE=worker) run against this
// file's database and are killed with SIGKILL in the middle of a chunk's transaction, or frozen
// with SIGSTOP so that, once woken, two live workers make the same batch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { spawnService, type ServiceProcess } from '../support/service-process';

const CODE_PATTERN = '^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{10}$'; // the default format
const DEAD_AFTER = '2s';

const t = useTestApp({ MAX_CODES_PER_REQUEST: '2000000' });

interface WorkerProcess extends ServiceProcess {
  /** Also its connections' application_name, so its backends can be told apart. */
  name: string;
}

const started: WorkerProcess[] = [];
const dataDirs: string[] = [];
const isRunning = (w: WorkerProcess) => w.child.exitCode === null && w.child.signalCode === null;

async function startWorkerProcess(name: string): Promise<WorkerProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'promo-crash-'));
  dataDirs.push(dataDir);
  const databaseUrl = new URL(t.databaseUrl);
  databaseUrl.searchParams.set('application_name', name);
  const worker = {
    name,
    ...spawnService({
      ROLE: 'worker',
      PORT: '0', // its /readyz and /metrics on a port of its own
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl.toString(),
      LOG_LEVEL: 'warn',
      WORKER_DEAD_AFTER: DEAD_AFTER,
      SEED_DEMO: 'false',
      DATA_DIR: dataDir,
      ADMIN_API_KEY: undefined,
      SMTP_URL: undefined,
    }),
  };
  started.push(worker);
  return worker;
}

async function kill(worker: WorkerProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
}

afterEach(async () => {
  for (const worker of started.splice(0)) {
    if (!isRunning(worker)) continue;
    worker.child.kill('SIGKILL'); // also ends a SIGSTOPped process
    await worker.exited;
  }
});
afterAll(async () => {
  for (const dir of dataDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Polls until `probe` returns a truthy value; fails early, with its output, if a worker exits. */
async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  workers: WorkerProcess[],
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    const gone = workers.find((w) => !isRunning(w));
    if (gone) throw new Error(`worker ${gone.name} exited while waiting for ${what}:\n${gone.output()}`);
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}:\n${workers.map((w) => `[${w.name}]\n${w.output()}`).join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const { newList } = fixtures(t, { list: { name: 'Crash target', type: 'single_use', outcome: { tags: ['crash'] } } });

async function requestBatch(listId: string, count: number) {
  const res = await t.call('admin', { method: 'POST', url: `/v1/lists/${listId}/batches`, payload: { count } });
  expect(res.statusCode, res.body).toBe(202);
  expect(res.data).toMatchObject({ requested: count, generated: 0, status: 'pending' });
  return res.data as { id: string };
}

/** The batch's progress and, read in the same snapshot, how many codes it really has. */
async function progress(batchId: string) {
  const { rows } = await t.pool.query<{ status: string; generated: number; codes: number }>(
    `SELECT status, generated, (SELECT count(*)::int FROM codes WHERE source_id = $1) AS codes
       FROM batches WHERE id = $1`,
    [batchId],
  );
  return rows[0]!;
}

const statusOf = async (batchId: string) =>
  (
    await t.pool.query<{ status: string; generated: number }>('SELECT status, generated FROM batches WHERE id = $1', [
      batchId,
    ])
  ).rows[0]!;

const jobOf = async (batchId: string) =>
  (
    await t.pool.query<{ locked_by: string | null }>('SELECT locked_by FROM graphile_worker.jobs WHERE key = $1', [
      `batch:${batchId}`,
    ])
  ).rows[0];

/**
 * What the given workers' connections are doing to a batch right now: inserting a chunk of
 * codes (holding the batch row lock), or waiting for that lock to insert one.
 */
async function chunkActivity(workers: WorkerProcess[]): Promise<{ name: string; doing: 'inserting' | 'waiting' }[]> {
  const { rows } = await t.pool.query<{ name: string; doing: 'inserting' | 'waiting' }>(
    `SELECT application_name AS name, CASE WHEN wait_event_type = 'Lock' THEN 'waiting' ELSE 'inserting' END AS doing
       FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ANY($1) AND state = 'active'
        AND (query LIKE 'INSERT INTO codes%' OR query LIKE 'COPY codes%'
             OR (wait_event_type = 'Lock' AND query LIKE '%FROM batches WHERE id = $1 FOR UPDATE'))`,
    [workers.map((w) => w.name)],
  );
  return rows;
}

/** Waits until a chunk past `committed` codes is in and one of `workers` is inside the next one. */
async function busyWorker(batchId: string, workers: WorkerProcess[], committed: number): Promise<WorkerProcess> {
  const name = await until(
    `a worker to be inside a chunk after ${committed} codes`,
    async () => {
      if ((await statusOf(batchId)).generated <= committed) return null;
      return (await chunkActivity(workers))[0]?.name;
    },
    workers,
  );
  return workers.find((w) => w.name === name)!;
}

async function expectExactly(listId: string, batchId: string, requested: number) {
  const batch = await t.call('agent', { method: 'GET', url: `/v1/batches/${batchId}` });
  expect(batch.data).toMatchObject({ requested, generated: requested, status: 'active', error: null });
  const { rows } = await t.pool.query<{ total: number; distinct: number; malformed: number; elsewhere: number }>(
    `SELECT count(*)::int AS total, count(DISTINCT code)::int AS distinct,
            count(*) FILTER (WHERE code !~ $2)::int AS malformed,
            count(*) FILTER (WHERE list_id <> $3)::int AS elsewhere
       FROM codes WHERE source_id = $1`,
    [batchId, CODE_PATTERN, listId],
  );
  expect(rows[0]).toEqual({ total: requested, distinct: requested, malformed: 0, elsewhere: 0 });
  const list = await t.call('agent', { method: 'GET', url: `/v1/lists/${listId}` });
  expect(list.data).toMatchObject({ code_count: requested, available_count: requested });
}

describe('batch generation when worker processes die', () => {
  it('resumes after a worker is killed mid-chunk and ends with exactly the requested codes', async () => {
    const requested = 1_000_000;
    const list = await newList();
    const batch = await requestBatch(list.id, requested);

    const first = await startWorkerProcess('crash-first');
    // At least one chunk committed and the next one being inserted: the kill lands mid-transaction.
    await busyWorker(batch.id, [first], 0);
    await kill(first);

    const halfway = await progress(batch.id);
    expect(halfway.status).toBe('pending');
    expect(halfway.generated).toBeGreaterThan(0);
    expect(halfway.generated).toBeLessThan(requested);
    expect(halfway.codes).toBe(halfway.generated); // whole chunks only: the one in flight rolled back
    // The job is still locked by the dead worker: only the dead-worker reclaim lets it run again.
    expect((await jobOf(batch.id))?.locked_by).toBeTruthy();

    const second = await startWorkerProcess('crash-second');
    await until(
      'the batch to become active',
      async () => {
        const now = await statusOf(batch.id);
        expect(now.status).not.toBe('failed');
        return now.status === 'active';
      },
      [second],
      90_000,
    );
    await until('the finished job to leave the queue', async () => !(await jobOf(batch.id)), [second], 15_000);
    await kill(second);

    await expectExactly(list.id, batch.id, requested);
  }, 180_000);

  it('never makes more than requested when two live workers make the same batch', async () => {
    // The chunk size of batches.job.ts: 600,000 codes are two full chunks and a partial one, so
    // the last insert below brings 250,000 codes where 100,000 fit. The LIMIT on that insert (and
    // behind it the CHECK generated <= requested) is what keeps the batch exact.
    const CHUNK = 250_000;
    const requested = 600_000;
    const list = await newList();
    const batch = await requestBatch(list.id, requested);

    // Two workers at once; whichever takes the job is killed inside its second chunk.
    const pair = [await startWorkerProcess('crash-a'), await startWorkerProcess('crash-b')];
    const killed = await busyWorker(batch.id, pair, 0);
    const survivor = pair.find((w) => w !== killed)!;
    const killedJob = (await jobOf(batch.id))!.locked_by;
    await kill(killed);
    const atKill = await progress(batch.id);
    expect(atKill).toMatchObject({ status: 'pending', generated: CHUNK, codes: CHUNK });

    // The survivor takes the job over and freezes inside its first chunk (a GC pause, a stalled
    // VM): its heartbeat stops, its transaction stays open and holds the batch row lock.
    await until('the survivor to reclaim the job', async () => {
      const job = await jobOf(batch.id);
      return job?.locked_by && job.locked_by !== killedJob;
    }, [survivor]);
    await until('the survivor to insert a chunk', async () => {
      return (await chunkActivity([survivor])).some((a) => a.doing === 'inserting');
    }, [survivor]);
    const frozenJob = (await jobOf(batch.id))!.locked_by;
    survivor.child.kill('SIGSTOP');
    // Its chunk is a full one, and after it there is room for part of a chunk only.
    expect(await progress(batch.id)).toMatchObject({ status: 'pending', generated: CHUNK, codes: CHUNK });

    // The killed worker, restarted, reclaims the job from the frozen one. Seeing what is
    // committed, it makes a full chunk and waits for the batch row lock.
    const restarted = await startWorkerProcess('crash-restarted');
    await until('the restarted worker to reclaim the job and wait for the batch lock', async () => {
      const job = await jobOf(batch.id);
      if (!job?.locked_by || job.locked_by === frozenJob) return false;
      return (await chunkActivity([restarted])).some((a) => a.doing === 'waiting');
    }, [restarted]);

    // The survivor wakes up and commits its chunk; the restarted worker, next in line for the
    // lock, brings a full chunk where only part of one fits. Two live workers now make one batch.
    survivor.child.kill('SIGCONT');
    const live = [survivor, restarted];
    await until(
      'the batch to become active',
      async () => {
        const now = await statusOf(batch.id);
        expect(now.status).not.toBe('failed');
        return now.status === 'active';
      },
      live,
      90_000,
    );
    await until('the finished job to leave the queue', async () => !(await jobOf(batch.id)), live, 15_000);
    for (const worker of live) await kill(worker);

    await expectExactly(list.id, batch.id, requested);
  }, 180_000);
});
