// The metrics a team alerts on (README, Operations): each counts what happened, and the whole
// scrape passes `promtool check metrics`, Prometheus' own linter.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createList, generateBatch, importCodes, registerCustomer } from '../support/fixtures';
import { eventually, startTestWorker } from '../support/worker';
import type { Worker } from '../../src/jobs/queue';

const PROMTOOL = '/usr/bin/promtool';
const t = useTestApp({ LOCKOUT_THRESHOLD: '2', DATABASE_POOL_SIZE: '7' });
let worker: Worker | undefined;

beforeAll(() => {
  if (!existsSync(PROMTOOL))
    throw new Error(`${PROMTOOL} is missing: install Debian's prometheus package (apt-get install prometheus)`);
});
afterAll(async () => worker?.stop());

const scrape = async () => (await t.call(null, { method: 'GET', url: '/metrics' })).body;

/** The value of one sample, e.g. `claims_total{kind="claim",result="succeeded",reason=""}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('report the job queue of the whole service: a batch waits while no worker runs', async () => {
    const list = await createList(t, { name: 'queued', type: 'single_use', outcome: { tags: ['m'] } });
    const created = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.id}/batches`,
      payload: { count: 5 },
    });
    expect(created.statusCode, created.body).toBe(202);
    const text = await scrape();
    expect(sample(text, 'jobs{task="generate_batch",state="queued"}')).toBe(1);
    expect(sample(text, 'jobs{task="generate_batch",state="running"}')).toBe(0);
    worker = await startTestWorker(t);
    await eventually(
      async () => sample(await scrape(), 'jobs{task="generate_batch",state="queued"}') === undefined,
      30_000,
      'the queue to empty',
    );
  });

  it('count codes generated and imported, jobs by task and result, and alert mails', async () => {
    const single = await createList(t, { name: 'generated', type: 'single_use', outcome: { tags: ['m'] } });
    const notified = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${single.id}/batches`,
      payload: { count: 20, notify: ['ops@example.com'] },
    });
    expect(notified.statusCode, notified.body).toBe(202);
    const third = await createList(t, { name: 'imported', type: 'third_party', outcome: { tags: ['m'] } });
    await importCodes(t, third.id, ['IMP-1', 'IMP-2', 'IMP-3', 'IMP-3']);
    const text = await eventually(
      async () => {
        const body = await scrape();
        return sample(body, 'mails_total{result="sent"}') === 1 && body;
      },
      30_000,
      'the alert mail',
    );
    expect(sample(text, 'codes_generated_total')).toBe(25); // the first test's 5 and these 20
    expect(sample(text, 'codes_imported_total')).toBe(3); // a repeated line is rejected, not imported
    expect(sample(text, 'job_duration_seconds_count{task="generate_batch",result="completed"}')).toBe(2);
    expect(sample(text, 'job_duration_seconds_count{task="process_import",result="completed"}')).toBe(1);
    expect(sample(text, 'mails_total{result="failed"}')).toBeUndefined();
  });

  it('count claims and validations by result and reason, and lockouts', async () => {
    const list = await createList(t, { name: 'claimed', type: 'single_use', outcome: { tags: ['m'] } });
    const { codes } = await generateBatch(t, list.id, 2);
    const customer = await registerCustomer(t, 'metrics-customer');
    const claim = (code: string) =>
      t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id: customer } });
    expect((await claim(codes[0]!)).statusCode).toBe(201);
    expect((await claim(codes[0]!)).statusCode).toBe(409);
    const validated = await t.call('client', {
      method: 'POST',
      url: '/v1/claims/validate',
      payload: { code: codes[1], customer_id: customer },
    });
    expect(validated.statusCode).toBe(200);
    // LOCKOUT_THRESHOLD=2: the second unknown code locks the customer out, the third is refused.
    for (const code of ['NOPE-1', 'NOPE-2', 'NOPE-3']) await claim(code);

    const text = await scrape();
    expect(sample(text, 'claims_total{kind="claim",result="succeeded",reason=""}')).toBe(1);
    expect(sample(text, 'claims_total{kind="claim",result="refused",reason="code_already_claimed"}')).toBe(1);
    expect(sample(text, 'claims_total{kind="claim",result="refused",reason="code_not_found"}')).toBe(2);
    expect(sample(text, 'claims_total{kind="claim",result="refused",reason="customer_locked_out"}')).toBe(1);
    expect(sample(text, 'claims_total{kind="validate",result="succeeded",reason=""}')).toBe(1);
    expect(sample(text, 'customer_lockouts_total')).toBe(1);
  });

  it('report the pool: its maximum, connections in use and idle, and waiting queries', async () => {
    const text = await scrape();
    expect(sample(text, 'db_pool_max_connections')).toBe(7);
    expect(sample(text, 'db_pool_connections{state="in_use"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_connections{state="idle"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_waiting_requests')).toBe(0);
  });

  it('pass promtool check metrics', async () => {
    const text = await scrape();
    const checked = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${checked.stdout}${checked.stderr}`).toBe('');
    expect(checked.status).toBe(0);
    expect(execFileSync(PROMTOOL, ['--version'], { encoding: 'utf8' })).toMatch(/promtool/);
  });
});
