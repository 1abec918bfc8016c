// Webhook delivery over time (src/webhooks/delivery.job.ts): an endpoint failing for longer than
// WEBHOOK_RETRY_FOR is disabled, audited and the admins mailed, and resumes where it stopped once
// enabled; the minutely sweep gives an enabled endpoint without a job its job; a local receiver
// gets thousands of events a second; and a request goes only to the addresses checked.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDeliveryJobs } from '../../src/webhooks/delivery.job';
import { send } from '../../src/webhooks/send';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { closeReceivers, type Receiver, startReceiver, verifies } from '../support/receiver';
import { startSmtpServer } from '../support/smtp';
import { eventually, useTestWorker } from '../support/worker';

const env = { WEBHOOK_KEY: randomBytes(32).toString('base64'), WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_FOR: '2s' };
const t = useTestApp(env);
const { customer, multiList } = fixtures(t);
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
useTestWorker(t, () => ({ ...env, SMTP_URL: smtp.url }));
afterAll(async () => {
  await closeReceivers();
  await smtp?.close();
});

async function endpointFor(receiver: Receiver, events: string[]) {
  const res = await t.call('admin', {
    method: 'POST',
    url: '/v1/webhook-endpoints',
    payload: { url: receiver.url, events },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.data as { id: string; secret: string };
}

const endpointRow = async (id: string) =>
  (await t.pool.query('SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1', [id])).rows[0];

const claimOnce = async () => {
  const { code } = await multiList();
  const res = await t.call('client', {
    method: 'POST',
    url: '/v1/claims',
    payload: { code, customer_id: await customer() },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.data.claim.id as string;
};

describe('an endpoint that keeps failing', () => {
  it('is disabled after WEBHOOK_RETRY_FOR, audited as the system, the admins mailed; enabled, it resumes', async () => {
    await t.pool.query(
      `INSERT INTO operators (email, role, password_hash, disabled_at) VALUES
         ('ops@example.com', 'admin', 'x', NULL), ('helper@example.com', 'agent', 'x', NULL),
         ('former@example.com', 'admin', 'x', now())`,
    );
    const receiver = await startReceiver();
    receiver.answer = () => ({ status: 500 });
    const endpoint = await endpointFor(receiver, ['claim.created']);
    const claimId = await claimOnce();
    await eventually(async () => (await endpointRow(endpoint.id)).enabled === false, 30_000, 'the endpoint disabled');
    expect(await endpointRow(endpoint.id)).toEqual({ enabled: false, disabled_reason: 'failing' });
    const tries = receiver.received.length;
    expect(tries).toBeGreaterThanOrEqual(2);
    expect(new Set(receiver.received.map((r) => r.json.data.id))).toEqual(new Set([claimId]));

    const audit = await t.pool.query(
      "SELECT actor, after FROM audit_log WHERE action = 'webhook_endpoint.disable' AND entity_id = $1",
      [endpoint.id],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actor: 'system', after: { enabled: false, disabled_reason: 'failing' } });
    const mail = await eventually(async () => smtp.mails.find((m) => m.subject.includes(`#${endpoint.id}`)));
    expect(mail.to).toEqual(['ops@example.com']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(smtp.mails.filter((m) => m.subject.includes(`#${endpoint.id}`))).toHaveLength(1);
    expect(receiver.received).toHaveLength(tries); // no more attempts once disabled

    receiver.answer = () => ({ status: 200 });
    const enabled = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      payload: { enabled: true },
    });
    expect(enabled.statusCode, enabled.body).toBe(200);
    const again = await t.pool.query('SELECT first_failed_at FROM webhook_deliveries WHERE endpoint_id = $1', [
      endpoint.id,
    ]);
    expect(again.rows[0].first_failed_at).toBeNull(); // a whole WEBHOOK_RETRY_FOR again
    await eventually(async () => receiver.received.some((r) => r.status === 200), 30_000, 'delivery resumed');
    expect(receiver.received.at(-1)!.json.data.id).toBe(claimId);
  });
});

describe('the sweep', () => {
  it('gives an enabled endpoint without a job its job', async () => {
    const receiver = await startReceiver();
    const created = await t.call('admin', {
      method: 'POST',
      url: '/v1/webhook-endpoints',
      payload: { url: receiver.url, events: ['claim.created'], enabled: false },
    });
    // Enabled behind the API's back: no job was added.
    await t.pool.query(
      'UPDATE webhook_endpoints SET enabled = true, disabled_at = NULL, disabled_reason = NULL WHERE id = $1',
      [created.data.id],
    );
    const claimId = await claimOnce();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received).toHaveLength(0);
    await ensureDeliveryJobs(t.pool);
    await eventually(async () => receiver.received.length >= 1, 30_000, 'the claim delivered');
    expect(receiver.received.map((r) => r.json.data.id)).toEqual([claimId]);
    // A job already there keeps its time: the sweep adds no second one.
    await ensureDeliveryJobs(t.pool);
    const jobs = await t.pool.query('SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1', [
      `webhook:${created.data.id}`,
    ]);
    expect(jobs.rows[0].n).toBeLessThanOrEqual(1);
    await t.call('admin', {
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${created.data.id}`,
      payload: { enabled: false },
    });
  });
});

describe('a large backlog', () => {
  // The rate is measured in bench/, not asserted here; this checks that thousands of events
  // go out once each, in order, through the batched writes.
  it('delivers 6,000 events to a local receiver once each, in order', async () => {
    const receiver = await startReceiver();
    const endpoint = await endpointFor(receiver, ['list.low']);
    const count = 6000;
    const { rows } = await t.pool.query<{ id: string }>(
      `SELECT record_event('list.low', jsonb_build_object('n', n))::text AS id FROM generate_series(1, $1) n`,
      [count],
    );
    await eventually(async () => receiver.received.length >= count, 60_000, `${count} deliveries`);
    expect(receiver.received.map((r) => r.json.id)).toEqual(rows.map((r) => `evt_${r.id}`));
    expect(verifies(endpoint.secret, receiver.received.at(-1)!)).toBe(true);
    await t.call('admin', {
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      payload: { enabled: false },
    });
  });
});

describe('sending', () => {
  it('connects only to the addresses checked, whatever the host resolves to', async () => {
    const receiver = await startReceiver();
    const { port } = new URL(receiver.url);
    // A host that resolves nowhere: the request reaches the checked address all the same.
    const url = new URL(`http://receiver.invalid:${port}/hook`);
    const result = await send(
      { url, addresses: ['127.0.0.1'] },
      { id: 'msg_1', timestamp: Math.floor(Date.now() / 1000), signature: 'v1,x', body: '{}' },
    );
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(receiver.received.map((r) => r.headers.host)).toEqual([`receiver.invalid:${port}`]);
  });
});
