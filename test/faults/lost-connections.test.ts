// A connection can be cut at any moment (pg_terminate_backend here; a database restart, a
// failover or a proxy restart in production). pg reports that as an 'error' event on the client,
// which would end the process if nothing listened; here backends are killed at every stage a
// client is checked out, and each time the process stays up, the caller gets an error (a 503 over
// HTTP), and the pool goes on working.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../../src/db/pool';
import { migrate } from '../../src/db/migrate';
import { isDatabaseUnavailable } from '../../src/db/errors';
import { migrateQueue } from '../../src/jobs/queue';
import { createList } from '../support/fixtures';
import { useTestApp } from '../support/context';
import { eventually, startTestWorker } from '../support/worker';

const t = useTestApp();
let admin: pg.Client;
let base = '';
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
const uncaught: unknown[] = [];
const recordUncaught = (error: unknown) => void uncaught.push(error);

beforeAll(async () => {
  admin = new pg.Client({ connectionString: t.databaseUrl });
  await admin.connect();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  process.on('uncaughtException', recordUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', recordUncaught);
  await worker?.stop();
  await admin?.end();
});
afterEach(async () => {
  expect(uncaught).toEqual([]);
  // The pool still works after each cut.
  expect((await t.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
});

/** Kills the backends of this file's database (but the admin one) whose query matches `like`, once one exists. */
async function terminate(like: string, state = 'active'): Promise<number> {
  return eventually(
    async () => {
      const { rows } = await admin.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE $1 AND state = $2`,
        [like, state],
      );
      return rows.filter((r) => r.killed).length;
    },
    10_000,
    `a backend running ${like}`,
  );
}

describe('a backend killed', () => {
  it('while idle in a transaction: the transaction fails as unavailable and its client is dropped', async () => {
    const failure = await transaction(t.pool, async (tx) => {
      await tx.query("SELECT 'idle in transaction marker'");
      await terminate("SELECT 'idle in transaction marker'", 'idle in transaction');
      await new Promise((resolve) => setTimeout(resolve, 200)); // the 'error' event arrives while checked out
      await tx.query('SELECT 1');
    }).catch((error: unknown) => error);
    expect(isDatabaseUnavailable(failure)).toBe(true);
  });

  it('mid-COPY of an upload: the upload answers 503 database_unavailable and stores nothing', async () => {
    const list = await createList(t, { name: 'Cut upload', type: 'third_party', outcome: { tags: ['cut'] } });
    const answer = new Promise<{ status: number; body: string; retryAfter?: string }>((resolve, reject) => {
      const req = http.request(`${base}/v1/lists/${list.id}/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'text/plain' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode!, body, retryAfter: res.headers['retry-after'] as string | undefined });
          req.destroy(); // answered: the rest of the file is not sent
        });
      });
      req.on('error', reject);
      // A slow sender: the COPY is open, waiting for more lines, when its backend is killed.
      let n = 0;
      const timer = setInterval(() => {
        if (req.destroyed) return clearInterval(timer);
        req.write(Array.from({ length: 100 }, () => `CUT${String(n++).padStart(7, '0')}\n`).join(''));
        if (n >= 20_000) {
          clearInterval(timer);
          req.end();
        }
      }, 20);
    });
    await terminate('COPY import_lines%');
    const res = await answer;
    expect(res.status, res.body).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe('database_unavailable');
    expect(res.retryAfter).toBeDefined();
    const { rows } = await t.pool.query(
      'SELECT (SELECT count(*) FROM imports)::int AS imports, (SELECT count(*) FROM import_lines)::int AS lines',
    );
    expect(rows[0]).toEqual({ imports: 0, lines: 0 });
  });

  it('mid-COPY of an export: the download is cut short, and the next export is whole', async () => {
    worker = await startTestWorker(t);
    const list = await createList(t, { name: 'Cut export', type: 'single_use', outcome: { tags: ['cut'] } });
    const created = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.id}/batches`,
      payload: { count: 200_000 },
    });
    await eventually(
      async () =>
        (await t.call('agent', { method: 'GET', url: `/v1/batches/${created.data.id}` })).data.status === 'active',
      60_000,
      'the batch',
    );

    const download = (cut: boolean) =>
      new Promise<{ lines: number; complete: boolean }>((resolve) => {
        http.get(
          `${base}/v1/batches/${created.data.id}/export?format=csv`,
          { headers: { authorization: `Bearer ${t.keys.admin}` } },
          (res) => {
            let lines = 0;
            let first = true;
            res.on('data', (chunk: Buffer) => {
              for (const byte of chunk) if (byte === 10) lines++;
              if (cut && first) {
                first = false;
                res.pause(); // backpressure holds the COPY open while its backend is killed
                void terminate('COPY (%').then(() => setTimeout(() => res.resume(), 200));
              }
            });
            res.on('end', () => resolve({ lines, complete: res.complete }));
            res.on('error', () => resolve({ lines, complete: false }));
            res.on('aborted', () => resolve({ lines, complete: false }));
          },
        );
      });
    const cut = await download(true);
    expect(cut.lines).toBeLessThan(200_001);
    const whole = await download(false);
    expect(whole).toEqual({ lines: 200_001, complete: true });
  });

  // Migrations and the queue's migration lock each hold a client while they wait for an
  // advisory lock; another session holds it here so that the client is caught waiting.
  for (const [what, lockKey, run] of [
    ['during migrations', 7_314_159, () => migrate(t.pool)],
    ['during the queue migration lock', 7_314_160, () => migrateQueue(t.pool)],
  ] as const) {
    it(`${what}: the start fails with the connection error and nothing else breaks`, async () => {
      const holder = new pg.Client({ connectionString: t.databaseUrl });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [lockKey]);
        const running = run().catch((error: unknown) => error);
        await terminate('SELECT pg_advisory_lock%');
        expect(isDatabaseUnavailable(await running)).toBe(true);
      } finally {
        await holder.end();
      }
      // With the lock free, the same call succeeds (nothing left to do).
      await run();
    });
  }
});
