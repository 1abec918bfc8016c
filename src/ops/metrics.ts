// The Prometheus metrics a team alerts on (docs/operations in the README lists them). Two
// kinds:
// - counters of this process, incremented where the thing happens (a claim answered, codes
//   inserted, a mail sent); sum them over nodes;
// - figures of the whole service read from the database at scrape time (the job queue,
//   lockouts): every node reports the same figure, so take max, not sum, over nodes.
// Names follow Prometheus' rules (counters end in _total, base units), which
// `promtool check metrics` checks in the tests.
import client from 'prom-client';
import type { Pool } from '../db/pool';

/** The process's own counters, shared by every app and worker in the process. */
export const processRegistry = new client.Registry();
const registers = [processRegistry];

export const metrics = {
  claims: new client.Counter({
    name: 'claims_total',
    help: 'Claims and validations answered, by kind (claim, validate), result (succeeded, refused) and refusal reason',
    labelNames: ['kind', 'result', 'reason'] as const,
    registers,
  }),
  rateLimited: new client.Counter({
    name: 'rate_limited_requests_total',
    help: 'Requests refused with 429 rate_limited, by limit',
    labelNames: ['limit'] as const,
    registers,
  }),
  codesGenerated: new client.Counter({
    name: 'codes_generated_total',
    help: 'Single-use codes generated into batches',
    registers,
  }),
  codesImported: new client.Counter({
    name: 'codes_imported_total',
    help: 'Third-party codes accepted from imports',
    registers,
  }),
  mails: new client.Counter({
    name: 'mails_total',
    help: 'Alert mails by result (sent, failed)',
    labelNames: ['result'] as const,
    registers,
  }),
  jobDuration: new client.Histogram({
    name: 'job_duration_seconds',
    help: 'Background jobs run by this process: duration by task and result (completed, failed)',
    labelNames: ['task', 'result'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers,
  }),
};

/**
 * prom-client's process and Node.js metrics, less the three gauges it names `*_total`, which
 * Prometheus keeps for counters; their per-type gauges (`nodejs_active_handles{type}` and so
 * on) stay, and sum to the same figures.
 */
export function collectProcessMetrics(registry: client.Registry): void {
  client.collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}

interface DatabaseFigures {
  jobs: { task: string; queued: number; running: number; failed: number }[];
  lockouts: number;
}

/** The service-wide figures, read from the database at scrape time (see the top of the file). */
export function registerDatabaseFigures(registry: client.Registry, pool: Pool): void {
  // Scrapes at the same moment share one read.
  let reading: Promise<DatabaseFigures | null> | null = null;
  const figures = () =>
    (reading ??= readFigures(pool)
      .catch(() => null)
      .finally(() => {
        reading = null;
      }));
  new client.Gauge({
    name: 'jobs',
    help:
      'Background jobs of the whole service by task and state: ' +
      'queued (waiting or to be retried), running, failed (out of attempts)',
    labelNames: ['task', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const job of (await figures())?.jobs ?? []) {
        for (const state of ['queued', 'running', 'failed'] as const) this.set({ task: job.task, state }, job[state]);
      }
    },
  });
  new client.Counter({
    name: 'customer_lockouts_total',
    help: 'Customers locked out for too many unknown codes, over the whole service',
    registers: [registry],
    async collect() {
      const read = await figures();
      if (!read) return;
      this.reset();
      this.inc(read.lockouts);
    },
  });
}

async function readFigures(pool: Pool): Promise<DatabaseFigures> {
  const jobs = await pool.query<DatabaseFigures['jobs'][number]>(
    `SELECT task_identifier AS task,
            count(*) FILTER (WHERE attempts < max_attempts AND locked_at IS NULL)::int AS queued,
            count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
            count(*) FILTER (WHERE attempts >= max_attempts AND locked_at IS NULL)::int AS failed
       FROM graphile_worker.jobs GROUP BY task_identifier ORDER BY task_identifier`,
  );
  // Each lockout is audited by the claim function under this actor (audit_log_actor index).
  const lockouts = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_log WHERE actor = 'system:lockout'`,
  );
  return { jobs: jobs.rows, lockouts: lockouts.rows[0]!.n };
}
