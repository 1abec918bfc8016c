// SIGTERM on a busy process: SHUTDOWN_TIMEOUT_MS bounds the whole sequence, a request in
// flight finishes and its kept-alive connection is closed after it, and the
// batch job running at the deadline is handed back whole, so that the next process finishes it
// with exactly the requested codes.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/global-setup';
import { createTestDatabase } from '../support/context';
import { spawnService, type ServiceProcess } from '../support/service-process';
import { eventually } from '../support/worker';

const ADMIN_KEY = 'shutdown-test-admin-key-0123456789';
const SHUTDOWN_TIMEOUT_MS = 3000;
/** Big enough to be running still at the signal, when the job is asked to stop. */
const BATCH = 3_000_000;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir = '';
const started: ServiceProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'promo-shutdown-'));
});
afterAll(async () => {
  for (const service of started) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function startService(): Promise<{ service: ServiceProcess; base: string }> {
  const port = await freePort();
  const service = spawnService({
    DATABASE_URL: database.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    ROLE: 'all',
    ADMIN_API_KEY: ADMIN_KEY,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    SMTP_URL: undefined,
    WORKER_CONCURRENCY: '1',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    MAX_CODES_PER_REQUEST: String(BATCH),
  });
  started.push(service);
  const base = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`the service exited:\n${service.output()}`);
      return (await fetch(`${base}/readyz`).catch(() => null))?.status === 200;
    },
    60_000,
    'the service to be ready',
  );
  return { service, base };
}

const api = async (base: string, method: string, url: string, body?: unknown) => {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, data: (await res.json()) as any };
};

/** An upload trickled over `ms`: in flight for that long. */
function slowUpload(
  base: string,
  listId: string,
  ms: number,
): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/v1/lists/${listId}/imports`, {
      method: 'POST',
      agent: new http.Agent({ keepAlive: true }),
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/plain' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    const pieces = 10;
    let n = 0;
    const timer = setInterval(() => {
      req.write(`SLOW${String(n).padStart(6, '0')}\n`);
      if (++n === pieces) {
        clearInterval(timer);
        req.end();
      }
    }, ms / pieces);
  });
}

describe('SIGTERM under load', () => {
  it('finishes the request in flight, closes within SHUTDOWN_TIMEOUT_MS, hands its batch to the next one', async () => {
    const first = await startService();
    const single = await api(first.base, 'POST', '/v1/lists', {
      name: 'Shutdown batch',
      type: 'single_use',
      outcome: { tags: ['s'] },
    });
    const partner = await api(first.base, 'POST', '/v1/lists', {
      name: 'Shutdown upload',
      type: 'third_party',
      outcome: { tags: ['p'] },
    });
    const batch = await api(first.base, 'POST', `/v1/lists/${single.data.id}/batches`, { count: BATCH });
    expect(batch.status).toBe(202);
    await eventually(
      async () => (await api(first.base, 'GET', `/v1/batches/${batch.data.id}`)).data.generated > 0,
      30_000,
      'the batch to start',
    );

    const upload = slowUpload(first.base, partner.data.id, 1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    first.service.child.kill('SIGTERM');
    const exit = await first.service.exited;
    const took = Date.now() - signalled;

    expect(exit, first.service.output()).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 500);
    // In flight when the signal came: answered in full, and the kept-alive connection closed after it.
    const uploaded = await upload;
    expect(uploaded.status, uploaded.body).toBe(202);
    expect(uploaded.connection).toBe('close');

    // The batch job was handed back: unlocked, attempts from zero, the batch not failed.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT b.status, b.generated, j.attempts, j.locked_by FROM batches b
           LEFT JOIN graphile_worker.jobs j ON j.key = 'batch:' || b.id WHERE b.id = $1`,
        [batch.data.id],
      );
      expect(rows[0].status).toBe('pending');
      expect(rows[0].generated).toBeLessThan(BATCH);
      expect(rows[0]).toMatchObject({ attempts: 0, locked_by: null });

      const second = await startService();
      const done = await eventually(
        async () => {
          const { data } = await api(second.base, 'GET', `/v1/batches/${batch.data.id}`);
          return data.status !== 'pending' && data;
        },
        60_000,
        'the next process to finish the batch',
      );
      expect(done).toMatchObject({ status: 'active', generated: BATCH });
      const { rows: counted } = await db.query('SELECT count(*)::int AS n FROM codes WHERE source_id = $1', [
        batch.data.id,
      ]);
      expect(counted[0].n).toBe(BATCH);
    } finally {
      await db.end();
    }
  }, 180_000);
});
