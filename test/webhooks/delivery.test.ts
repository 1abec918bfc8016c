// Webhook delivery (src/webhooks/delivery.job.ts) with the real worker and a real receiver on
// loopback: every event an endpoint subscribes to arrives once, signed (checked with the
// Standard Webhooks library), in (xid, id) order; a failing receiver gets every event again,
// in order, once it answers 2xx; redirects are not followed; and the log, retry and test routes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failBatch } from '../../src/codes/batches.job';
import { failImport } from '../../src/codes/imports.job';
import { EVENT_TYPES } from '../../src/events/event-types';
import { NOT_YET_RECORDED } from '../../src/events/events';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { closeReceivers, type Receiver, startReceiver, verifies } from '../support/receiver';
import { eventually, useTestWorker } from '../support/worker';

const env = { WEBHOOK_KEY: randomBytes(32).toString('base64'), WEBHOOK_ALLOW_PRIVATE: 'true', LOCKOUT_THRESHOLD: '3' };
const t = useTestApp(env);
const { customer, customers, singleList, thirdPartyList, newList } = fixtures(t);
useTestWorker(t, env);
afterAll(closeReceivers);

let codes: string[];
let used = 0;
const nextCode = () => codes[used++]!;

beforeAll(async () => {
  ({ codes } = await singleList(400));
});

interface Endpoint {
  id: string;
  secret: string;
}

async function endpointFor(receiver: Receiver, events: string[] = ['*']): Promise<Endpoint> {
  const res = await t.call('admin', {
    method: 'POST',
    url: '/v1/webhook-endpoints',
    payload: { url: receiver.url, events },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.data;
}

async function disable(endpoint: Endpoint) {
  const res = await t.call('admin', {
    method: 'PATCH',
    url: `/v1/webhook-endpoints/${endpoint.id}`,
    payload: { enabled: false },
  });
  expect(res.statusCode, res.body).toBe(200);
}

const claim = (code: string, customerId: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id: customerId } });

/** The events after the endpoint's first cursor, in (xid, id) order, as delivery should send them. */
async function eventsSince(cursor: { xid: string; id: string }, types?: string[]) {
  const { rows } = await t.pool.query<{ id: string; type: string }>(
    `SELECT id::text, type FROM events WHERE (xid, id) > ($1::xid8, $2::bigint)
        AND ($3::text[] IS NULL OR type = ANY($3)) ORDER BY xid, id`,
    [cursor.xid, cursor.id, types ?? null],
  );
  return rows.map((row) => ({ id: `evt_${row.id}`, type: row.type }));
}

async function cursorOf(endpoint: Endpoint) {
  const { rows } = await t.pool.query<{ xid: string; id: string }>(
    'SELECT cursor_xid::text AS xid, cursor_id::text AS id FROM webhook_endpoints WHERE id = $1',
    [endpoint.id],
  );
  return rows[0]!;
}

/** The ids received with a 2xx answer, in the order they came. */
const deliveredIds = (receiver: Receiver) =>
  receiver.received.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.json.id as string);

describe('delivery', () => {
  it('delivers every recorded event type once, signed, in (xid, id) order', async () => {
    const receiver = await startReceiver();
    const endpoint = await endpointFor(receiver);
    const start = await cursorOf(endpoint);

    const who = await customer();
    const made = await claim(nextCode(), who);
    expect(made.statusCode, made.body).toBe(201);
    await t.call('agent', {
      method: 'POST',
      url: `/v1/claims/${made.data.claim.id}/reversal`,
      payload: { reason: 'r' },
    });
    await t.call('agent', { method: 'POST', url: `/v1/codes/${nextCode()}/cancel`, payload: { reason: 'x' } });
    const list = await newList({ type: 'single_use' });
    await t.call('admin', { method: 'PATCH', url: `/v1/lists/${list.id}`, payload: { description: 'after' } });
    await t.call('agent', { method: 'POST', url: `/v1/customers/${await customer()}/block`, payload: { reason: 'f' } });
    const locked = await customer();
    for (let i = 0; i < 4; i++) await claim(`NOPE-DELIVERY-${i}`, locked);
    const { batch } = await singleList(3);
    await t.pool.query("UPDATE batches SET status = 'pending', completed_at = NULL WHERE id = $1", [batch.id]);
    await failBatch(t.pool, batch.id, 'failed for the test');
    const { imp } = await thirdPartyList(['DELIVERY-A1']);
    await t.pool.query("UPDATE imports SET status = 'pending', completed_at = NULL WHERE id = $1", [imp.id]);
    await failImport(t.pool, imp.id, 'failed for the test');

    const expected = await eventsSince(start);
    const recorded = EVENT_TYPES.filter((type) => !(NOT_YET_RECORDED as readonly string[]).includes(type));
    expect(new Set(expected.map((e) => e.type))).toEqual(new Set(recorded));
    await eventually(async () => receiver.received.length >= expected.length, 30_000, 'every event delivered');
    expect(receiver.received.map((r) => ({ id: r.json.id, type: r.json.type }))).toEqual(expected);
    for (const request of receiver.received) {
      expect(verifies(endpoint.secret, request)).toBe(true);
      expect(request.headers['webhook-id']).toBe(request.json.id);
      expect(request.headers['content-type']).toBe('application/json');
      expect(Object.keys(request.json)).toEqual(['id', 'type', 'created_at', 'data']);
    }
    // The data is the entity as its GET returns it.
    const reversed = receiver.received.find((r) => r.json.type === 'claim.reversed')!;
    const get = await t.call('admin', { method: 'GET', url: `/v1/claims/${made.data.claim.id}` });
    expect(reversed.json.data).toEqual(get.data);
    await disable(endpoint);
  });

  it('delivers 300 parallel claims: exactly 300 claim.created, each once', async () => {
    const receiver = await startReceiver();
    const endpoint = await endpointFor(receiver, ['claim.created']);
    const people = await customers(300);
    const answers = await Promise.all(people.map((id) => claim(nextCode(), id)));
    expect(answers.map((a) => a.statusCode)).toEqual(people.map(() => 201));
    await eventually(async () => receiver.received.length >= 300, 30_000, '300 deliveries');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // nothing more comes
    expect(receiver.received).toHaveLength(300);
    expect(receiver.received.every((r) => r.json.type === 'claim.created')).toBe(true);
    const claimIds = receiver.received.map((r) => r.json.data.id);
    expect(new Set(claimIds).size).toBe(300);
    expect([...claimIds].sort()).toEqual(answers.map((a) => a.data.claim.id).sort());
    expect(new Set(receiver.received.map((r) => r.json.id)).size).toBe(300);
    expect(receiver.received.every((r) => verifies(endpoint.secret, r))).toBe(true);
    await disable(endpoint);
  });

  it('sends nothing for a refused claim', async () => {
    const receiver = await startReceiver();
    const endpoint = await endpointFor(receiver, ['claim.created']);
    const who = await customer();
    expect((await claim('NOPE-REFUSED', who)).statusCode).toBe(404);
    const ok = await claim(nextCode(), who);
    expect(ok.statusCode).toBe(201);
    await eventually(async () => receiver.received.length >= 1, 30_000, 'the claim delivered');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received.map((r) => r.json.data.id)).toEqual([ok.data.claim.id]);
    await disable(endpoint);
  });

  it('retries a receiver answering 500 until it answers 200: every event, in order, repeats the same id', async () => {
    const receiver = await startReceiver();
    receiver.answer = ({ n }) => (n < 3 ? { status: 500, body: 'down for now' } : { status: 200 });
    const endpoint = await endpointFor(receiver, ['claim.created']);
    const start = await cursorOf(endpoint);
    const people = await customers(20);
    for (const who of people) expect((await claim(nextCode(), who)).statusCode).toBe(201);
    const expected = (await eventsSince(start, ['claim.created'])).map((e) => e.id);
    expect(expected).toHaveLength(20);
    await eventually(async () => deliveredIds(receiver).length >= 20, 30_000, 'every event after the failures');
    expect(deliveredIds(receiver)).toEqual(expected);
    // Each request's id matches its body; a repeat is the same message.
    const bodies = new Map<string, string>();
    for (const request of receiver.received) {
      expect(request.headers['webhook-id']).toBe(request.json.id);
      expect(verifies(endpoint.secret, request)).toBe(true);
      const seen = bodies.get(request.json.id);
      if (seen) expect(request.body).toBe(seen);
      bodies.set(request.json.id, request.body);
    }
    expect(receiver.received.slice(0, 4).map((r) => r.json.id)).toEqual(Array(4).fill(expected[0]));

    const log = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints/${endpoint.id}/deliveries` });
    expect(log.statusCode, log.body).toBe(200);
    expect(log.data.items).toHaveLength(20);
    const first = log.data.items.at(-1);
    expect(first).toMatchObject({
      event_id: expected[0],
      event_type: 'claim.created',
      attempts: 4,
      last_status_code: 200,
      last_error: null,
      next_retry_at: null,
      delivered_at: expect.any(String),
    });
    await disable(endpoint);
  });

  it('does not follow a redirect: a 3xx is a failure, retried', async () => {
    const elsewhere = await startReceiver();
    const receiver = await startReceiver();
    receiver.answer = () => ({ status: 302, headers: { location: elsewhere.url }, body: 'moved' });
    const endpoint = await endpointFor(receiver, ['claim.created']);
    expect((await claim(nextCode(), await customer())).statusCode).toBe(201);
    await eventually(async () => receiver.received.length >= 1, 30_000, 'the first attempt');
    const log = await eventually(async () => {
      const res = await t.call('admin', { method: 'GET', url: `/v1/webhook-endpoints/${endpoint.id}/deliveries` });
      return res.data.items.length === 1 && res.data.items[0];
    });
    expect(log).toMatchObject({
      attempts: 1,
      last_status_code: 302,
      last_response_body: 'moved',
      last_error: 'answered 302',
      delivered_at: null,
      next_retry_at: expect.any(String),
    });
    expect(elsewhere.received).toHaveLength(0);
    await disable(endpoint);
  });

  it('tries a new URL at once, not at the retry the old one was waiting for', async () => {
    const broken = await startReceiver();
    broken.answer = () => ({ status: 500, body: 'down' });
    const endpoint = await endpointFor(broken, ['claim.created']);
    expect((await claim(nextCode(), await customer())).statusCode).toBe(201);
    await eventually(async () => broken.received.length >= 1, 30_000, 'the first attempt');
    // The next retry an hour away, as after many failures.
    await t.pool.query("UPDATE graphile_worker._private_jobs SET run_at = now() + interval '1 hour' WHERE key = $1", [
      `webhook:${endpoint.id}`,
    ]);
    const fixed = await startReceiver();
    const changed = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      payload: { url: fixed.url },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    await eventually(async () => deliveredIds(fixed).length === 1, 30_000, 'the claim at the new URL');
    expect(verifies(endpoint.secret, fixed.received[0]!)).toBe(true);
    await disable(endpoint);
  });
});

describe('the delivery routes', () => {
  it('lists deliveries newest first, page by page; retries one now; sends a signed test message', async () => {
    const receiver = await startReceiver();
    const endpoint = await endpointFor(receiver, ['claim.created']);
    const people = await customers(3);
    for (const who of people) expect((await claim(nextCode(), who)).statusCode).toBe(201);
    await eventually(async () => receiver.received.length >= 3, 30_000, 'three deliveries');
    const url = `/v1/webhook-endpoints/${endpoint.id}/deliveries`;
    const all = await eventually(async () => {
      const res = await t.call('admin', { method: 'GET', url });
      return res.data.items.length === 3 && res.data.items;
    });
    const ids = all.map((d: { event_id: string }) => d.event_id);
    expect(ids).toEqual(receiver.received.map((r) => r.json.id).reverse());
    const one = await t.call('admin', { method: 'GET', url: `${url}?limit=2` });
    const two = await t.call('admin', { method: 'GET', url: `${url}?limit=2&cursor=${one.data.next_cursor}` });
    expect([...one.data.items, ...two.data.items].map((d: { event_id: string }) => d.event_id)).toEqual(ids);
    expect(two.data.next_cursor).toBeNull();
    expect(all[0]).toMatchObject({ attempts: 1, last_status_code: 200, last_latency_ms: expect.any(Number) });

    receiver.answer = () => ({ status: 503, body: 'x'.repeat(5000) });
    const retried = await t.call('admin', { method: 'POST', url: `${url}/${all[2].id}/retry` });
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.data).toMatchObject({
      id: all[2].id,
      attempts: 2,
      last_status_code: 503,
      delivered_at: all[2].delivered_at,
    });
    expect(retried.data.last_response_body).toHaveLength(1024);
    const again = receiver.received.at(-1)!;
    expect(again.json.id).toBe(all[2].event_id);
    expect(verifies(endpoint.secret, again)).toBe(true);
    const audit = await t.pool.query("SELECT actor FROM audit_log WHERE action = 'webhook_delivery.retry'");
    expect(audit.rows.map((r) => r.actor)).toEqual([t.actors.admin]);

    receiver.answer = () => ({ status: 204 });
    const test = await t.call('admin', { method: 'POST', url: `/v1/webhook-endpoints/${endpoint.id}/test` });
    expect(test.statusCode, test.body).toBe(200);
    expect(test.data).toMatchObject({ ok: true, status_code: 204, latency_ms: expect.any(Number), error: null });
    const message = receiver.received.at(-1)!;
    expect(message.json).toMatchObject({ type: 'webhook.test', data: { endpoint_id: endpoint.id } });
    expect(message.headers['webhook-id']).toMatch(/^msg_test_/);
    expect(verifies(endpoint.secret, message)).toBe(true);
    // Not an outbox event: nothing is logged for it.
    expect((await t.call('admin', { method: 'GET', url })).data.items).toHaveLength(3);

    const missing = await t.call('admin', { method: 'POST', url: `${url}/999999/retry` });
    expect(missing.statusCode).toBe(404);
    expect(missing.data.error.code).toBe('webhook_delivery_not_found');
    const noEndpoint = await t.call('admin', { method: 'POST', url: '/v1/webhook-endpoints/999999/test' });
    expect(noEndpoint.data.error.code).toBe('webhook_endpoint_not_found');
    const agent = await t.call('agent', { method: 'GET', url });
    expect(agent.statusCode).toBe(403);
    await disable(endpoint);
  });
});
