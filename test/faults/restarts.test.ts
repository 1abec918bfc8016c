// The database restarted three times in a row under load — a batch generating, an import
// running and 20 clients claiming — with `-m fast` and with `-m immediate`. The service is a real
// process on a cluster of this file's own. Afterwards: the process never exited and is ready, a
// new batch completes within 30 s, every batch and import ended exactly, the only 5xx answers
// were 503s with Retry-After, and claims, counters and the points ledger agree in SQL with what
// the clients were told.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/global-setup';
import { spawnService, type ServiceProcess } from '../support/service-process';
import { eventually } from '../support/worker';
import { startFaultCluster, type FaultCluster, type ShutdownMode } from './cluster';

const ADMIN_KEY = 'fault-suite-admin-key-0123456789';
const CLIENTS = 20;
const CODES_PER_CLIENT = 500;
const SINGLE_POINTS = 5;
const MULTI_POINTS = 7;
const MULTI_CAP = 10;
const BATCH_COUNT = 300_000;
const IMPORT_LINES = 50_000;

interface Answer {
  status: number;
  data: any;
  retryAfter: string | null;
}

for (const mode of ['fast', 'immediate'] as ShutdownMode[]) {
  describe(`three database restarts -m ${mode} under load`, () => {
    let cluster: FaultCluster;
    let service: ServiceProcess;
    let dataDir: string;
    let base = '';
    let clientKey = '';
    /** Every answer any request got, and the requests that got no answer at all. */
    const answers: Answer[] = [];
    let unanswered = 0;

    async function call(
      method: string,
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
      key = ADMIN_KEY,
    ): Promise<Answer | null> {
      try {
        const res = await fetch(`${base}${url}`, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body === undefined
              ? {}
              : { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        });
        const text = await res.text();
        const answer = {
          status: res.status,
          data: text.startsWith('{') ? JSON.parse(text) : text,
          retryAfter: res.headers.get('retry-after'),
        };
        answers.push(answer);
        return answer;
      } catch {
        unanswered++;
        return null;
      }
    }

    /**
     * A request retried, as a careful client does, while the answer is a 503: safe for reads and
     * for writes with an Idempotency-Key.
     */
    async function settled(
      method: string,
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
      key = ADMIN_KEY,
    ): Promise<Answer> {
      for (;;) {
        const answer = await call(method, url, body, headers, key);
        if (answer && answer.status !== 503) return answer;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    beforeAll(async () => {
      cluster = await startFaultCluster();
      dataDir = await mkdtemp(path.join(tmpdir(), 'promo-fault-svc-'));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      service = spawnService({
        DATABASE_URL: cluster.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        ROLE: 'all',
        ADMIN_API_KEY: ADMIN_KEY,
        SEED_DEMO: 'false',
        LOG_LEVEL: 'error',
        DATA_DIR: dataDir,
        SMTP_URL: undefined,
        WORKER_CONCURRENCY: '2',
        WORKER_DEAD_AFTER: '10s',
      });
      await eventually(
        async () => {
          if (service.child.exitCode !== null) throw new Error(`the service exited:\n${service.output()}`);
          return (await fetch(`${base}/readyz`).catch(() => null))?.status === 200;
        },
        90_000,
        'the service to be ready',
      );
      const key = await settled('POST', '/v1/api-keys', { name: 'fault clients', role: 'client' });
      expect(key.status).toBe(201);
      clientKey = key.data.key;
    }, 120_000);

    afterAll(async () => {
      service?.child.kill('SIGKILL');
      await service?.exited;
      await cluster?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('leaves a running, ready service whose jobs all finish exactly; clients saw 503s, never a 500', async () => {
      // Catalog, lists, customers and the codes the clients claim, made before any restart.
      expect((await settled('POST', '/v1/point-accounts', { key: 'spendable', name: 'Spendable' })).status).toBe(201);
      expect((await settled('POST', '/v1/point-sources', { key: 'promo_code', name: 'Promo code' })).status).toBe(201);
      const points = (amount: number) => ({ points: { amount, account: 'spendable', source: 'promo_code' } });
      const single = (
        await settled('POST', '/v1/lists', { name: 'Fault single', type: 'single_use', outcome: points(SINGLE_POINTS) })
      ).data;
      const multi = (
        await settled('POST', '/v1/lists', {
          name: 'Fault multi',
          type: 'multi_use',
          code: 'FAULTSALE',
          redemption_cap: MULTI_CAP,
          outcome: points(MULTI_POINTS),
        })
      ).data;
      const bulk = (
        await settled('POST', '/v1/lists', { name: 'Fault bulk', type: 'single_use', outcome: { tags: ['bulk'] } })
      ).data;
      const partner = (
        await settled('POST', '/v1/lists', {
          name: 'Fault partner',
          type: 'third_party',
          outcome: { tags: ['partner'] },
        })
      ).data;
      const customers = Array.from({ length: CLIENTS }, (_, i) => `fault-customer-${i}`);
      for (const id of customers)
        expect((await settled('PUT', `/v1/customers/${id}`, {}, {}, clientKey)).status).toBe(201);
      const claimable = (await settled('POST', `/v1/lists/${single.id}/batches`, { count: CLIENTS * CODES_PER_CLIENT }))
        .data;
      await eventually(
        async () => (await settled('GET', `/v1/batches/${claimable.id}`)).data.status === 'active',
        60_000,
        'the claimable batch',
      );
      const codes: string[] = [];
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page: Answer = await settled(
          'GET',
          `/v1/lists/${single.id}/codes?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        );
        codes.push(...page.data.items.map((c: { code: string }) => c.code));
        cursor = page.data.next_cursor;
      }
      expect(codes).toHaveLength(CLIENTS * CODES_PER_CLIENT);

      // 20 clients claim their own codes, each with an Idempotency-Key so that a 503 is retried
      // safely, one claim of the multi-use code each, and validations in between.
      let loading = true;
      const told = { single: new Map<string, string>(), multi: new Map<string, string>() };
      const clients = customers.map(async (customer, i) => {
        const mine = codes.slice(i * CODES_PER_CLIENT, (i + 1) * CODES_PER_CLIENT);
        const claimOnce = async (code: string, key: string) => {
          const answer = await settled(
            'POST',
            '/v1/claims',
            { code, customer_id: customer },
            { 'idempotency-key': key },
            clientKey,
          );
          return answer.status === 201;
        };
        if (await claimOnce('FAULTSALE', `multi-${customer}`)) told.multi.set(customer, 'FAULTSALE');
        for (const [n, code] of mine.entries()) {
          if (!loading) break;
          if (await claimOnce(code, `single-${code}`)) told.single.set(code, customer);
          if (n % 5 === 0)
            await call(
              'POST',
              '/v1/claims/validate',
              { code: mine[mine.length - 1], customer_id: customer },
              {},
              clientKey,
            );
        }
      });

      // Three rounds: a batch and an import start, and the database restarts under them.
      const batches: string[] = [];
      const imports: string[] = [];
      for (let round = 0; round < 3; round++) {
        const batch = await settled('POST', `/v1/lists/${bulk.id}/batches`, { count: BATCH_COUNT });
        expect(batch.status, JSON.stringify(batch.data)).toBe(202);
        batches.push(batch.data.id);
        const lines = Array.from({ length: IMPORT_LINES }, (_, n) => `R${round}P${String(n).padStart(7, '0')}`);
        const upload = await settled('POST', `/v1/lists/${partner.id}/imports`, lines.join('\n'));
        expect(upload.status, JSON.stringify(upload.data)).toBe(202);
        imports.push(upload.data.id);
        // Wait until the batch is under way, so that the restart interrupts its job.
        await eventually(
          async () => (await settled('GET', `/v1/batches/${batch.data.id}`)).data.generated > 0,
          30_000,
          'the batch to start',
        );
        await cluster.restart(mode);
        await eventually(
          async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200,
          60_000,
          'ready again',
        );
      }
      loading = false;
      await Promise.all(clients);

      // The process never exited, is ready, and a new batch completes within 30 s.
      expect(service.child.exitCode).toBeNull();
      expect(service.child.signalCode).toBeNull();
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const fresh = (await settled('POST', `/v1/lists/${bulk.id}/batches`, { count: 1000 })).data;
      await eventually(
        async () => (await settled('GET', `/v1/batches/${fresh.id}`)).data.status === 'active',
        30_000,
        'a new batch after the restarts',
      );

      // Every batch and import ended, exactly.
      for (const id of batches) {
        const done = await eventually(
          async () => {
            const { data } = await settled('GET', `/v1/batches/${id}`);
            return data.status !== 'pending' && data;
          },
          120_000,
          `batch ${id}`,
        );
        expect(done).toMatchObject({ status: 'active', requested: BATCH_COUNT, generated: BATCH_COUNT });
      }
      for (const id of imports) {
        const done = await eventually(
          async () => {
            const { data } = await settled('GET', `/v1/imports/${id}`);
            return data.status !== 'pending' && data;
          },
          120_000,
          `import ${id}`,
        );
        expect(done).toMatchObject({ status: 'active', accepted: IMPORT_LINES, rejected: 0 });
      }

      // Clients saw answers only, and the only 5xx were 503s with Retry-After.
      expect(unanswered).toBe(0);
      const serverErrors = answers.filter((a) => a.status >= 500);
      expect(serverErrors.filter((a) => a.status !== 503)).toEqual([]);
      expect(serverErrors.filter((a) => a.retryAfter === null)).toEqual([]);
      console.info(`-m ${mode}: ${answers.length} answers, ${serverErrors.length} of them 503`);

      // The database agrees with what the clients were told, and with itself.
      const db = new pg.Client({ connectionString: cluster.url });
      await db.connect();
      try {
        const count = async (query: string, params: unknown[]) => Number((await db.query(query, params)).rows[0].n);
        for (const id of [...batches, fresh.id]) {
          const requested = id === fresh.id ? 1000 : BATCH_COUNT;
          expect(await count('SELECT count(*) AS n FROM codes WHERE source_id = $1', [id])).toBe(requested);
        }
        for (const id of imports)
          expect(await count('SELECT count(*) AS n FROM codes WHERE source_id = $1', [id])).toBe(IMPORT_LINES);
        expect(await count('SELECT count(*) AS n FROM import_lines', [])).toBe(0);

        const claims = (
          await db.query<{ code: string; customer_id: string; list_id: string }>(
            'SELECT code, customer_id, list_id FROM claims WHERE reversed_at IS NULL',
          )
        ).rows;
        const singleClaims = claims.filter((c) => c.list_id === single.id);
        expect(new Map(singleClaims.map((c) => [c.code, c.customer_id]))).toEqual(told.single);
        expect(singleClaims).toHaveLength(told.single.size);
        expect(
          await count('SELECT count(*) AS n FROM codes WHERE list_id = $1 AND claimed_by IS NOT NULL', [single.id]),
        ).toBe(told.single.size);
        const multiClaims = claims.filter((c) => c.list_id === multi.id);
        expect(multiClaims).toHaveLength(MULTI_CAP);
        expect(new Set(multiClaims.map((c) => c.customer_id))).toEqual(new Set(told.multi.keys()));
        for (const [list, n] of [
          [single.id, told.single.size],
          [multi.id, MULTI_CAP],
        ] as const) {
          expect(
            await count('SELECT coalesce(sum(claims), 0) AS n FROM list_counters WHERE list_id = $1', [list]),
          ).toBe(n);
        }
        for (const customer of customers) {
          const expected =
            SINGLE_POINTS * singleClaims.filter((c) => c.customer_id === customer).length +
            MULTI_POINTS * multiClaims.filter((c) => c.customer_id === customer).length;
          expect(
            await count('SELECT coalesce(sum(amount), 0) AS n FROM points_ledger WHERE customer_id = $1', [customer]),
          ).toBe(expected);
        }
      } finally {
        await db.end();
      }
    }, 420_000);
  });
}
