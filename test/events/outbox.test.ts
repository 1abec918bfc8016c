// The outbox of events (src/events/events.ts, migration 008): an event is written in the
// transaction of its change, once per change, with the entity as the API returns it; refusals
// write none; and events_after never hands out an event of a transaction still open, nor
// skips it once that transaction commits.
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { lockoutRules } from '../../src/claims/claims.service';
import { runClaims } from '../../src/claims/claims.sql';
import { failBatch } from '../../src/codes/batches.job';
import { failImport } from '../../src/codes/imports.job';
import { EVENT_TYPES } from '../../src/events/event-types';
import { NOT_YET_RECORDED } from '../../src/events/events';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp({ LOCKOUT_THRESHOLD: '3' });
const { customer, customers, singleList, thirdPartyList, newList, multiList } = fixtures(t);
useTestWorker(t);

interface StoredEvent {
  id: string;
  xid: string;
  type: string;
  created_at: Date;
  data: any;
}

async function eventsOf(type: string, entityId?: string): Promise<StoredEvent[]> {
  const { rows } = await t.pool.query<StoredEvent>(
    `SELECT id::text, xid::text, type, created_at, data FROM events
      WHERE type = $1 AND ($2::text IS NULL OR data->>'id' = $2) ORDER BY events.id`,
    [type, entityId ?? null],
  );
  return rows;
}

const eventCount = async () => Number((await t.pool.query('SELECT count(*) AS n FROM events')).rows[0].n);

/** The one event of `type` about the entity `id`. */
async function onlyEvent(type: string, id: string): Promise<StoredEvent> {
  const found = await eventsOf(type, id);
  expect(found, `${type} events of ${id}`).toHaveLength(1);
  return found[0]!;
}

const get = async (url: string) => {
  const res = await t.call('admin', { method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  return res.data;
};

const claim = (code: string, customerId: string, key?: string) =>
  t.call('client', {
    method: 'POST',
    url: '/v1/claims',
    payload: { code, customer_id: customerId },
    headers: key ? { 'idempotency-key': key } : {},
  });

let codes: string[];
let batch: any;

beforeAll(async () => {
  ({ codes, batch } = await singleList(320));
});

describe('claim.created', () => {
  it('is written once for each of 300 parallel claims, naming a distinct claim that exists', async () => {
    const people = await customers(300);
    const before = (await eventsOf('claim.created')).length;
    const batched = { ...t.app.claimBatcher.stats };
    const answers = await Promise.all(people.map((id, i) => claim(codes[i]!, id)));
    expect(answers.map((a) => a.statusCode)).toEqual(people.map(() => 201));
    const ids = answers.map((a) => a.data.claim.id as string);

    const events = (await eventsOf('claim.created')).slice(before);
    expect(events).toHaveLength(300);
    const named = events.map((e) => e.data.id as string);
    expect(new Set(named).size).toBe(300);
    expect([...named].sort()).toEqual([...ids].sort());
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM claims WHERE id = ANY($1::bigint[])', [named]);
    expect(rows[0].n).toBe(300);
    // Without an Idempotency-Key they went through the batcher, several claims to a batch.
    const stats = t.app.claimBatcher.stats;
    expect(stats.elements - batched.elements).toBe(300);
    expect(stats.batches - batched.batches).toBeLessThan(300);
  });

  it('is not written for refusals and validations', async () => {
    const who = await customer();
    const before = await eventCount();
    expect((await claim('NO-SUCH-CODE-1', who)).data.error.code).toBe('code_not_found');
    expect((await claim(codes[0]!, who)).data.error.code).toBe('code_already_claimed');
    const valid = await t.call('client', {
      method: 'POST',
      url: '/v1/claims/validate',
      payload: { code: codes[300]!, customer_id: who },
    });
    expect(valid.statusCode, valid.body).toBe(200);
    const refused = await t.call('client', {
      method: 'POST',
      url: '/v1/claims/validate',
      payload: { code: codes[0]!, customer_id: who },
    });
    expect(refused.data.error.code).toBe('code_already_claimed');
    expect(await eventCount()).toBe(before);
  });

  it('is written once for each successful element of a batch of claims, and for none of the others', async () => {
    const [a, b] = await customers(2);
    const before = (await eventsOf('claim.created')).length;
    const results = await runClaims(
      t.pool,
      'claim',
      [
        { code: codes[301]!, customerId: a! },
        { code: codes[301]!, customerId: b! },
        { code: 'NO-SUCH-CODE-2', customerId: a! },
        { code: codes[302]!, customerId: b! },
      ],
      lockoutRules(t.app.config),
      0,
    );
    expect(results.map((r) => r.error ?? 'claimed')).toEqual([
      'claimed',
      'code_already_claimed',
      'code_not_found',
      'claimed',
    ]);
    const events = (await eventsOf('claim.created')).slice(before);
    expect(events.map((e) => e.data.id)).toEqual([results[0]!.claim!.id, results[3]!.claim!.id]);
    // One transaction: one xid, in the order of the batch.
    expect(new Set(events.map((e) => e.xid)).size).toBe(1);
  });

  it('is written once for a claim with an Idempotency-Key, and not again by its replay', async () => {
    const who = await customer();
    const first = await claim(codes[303]!, who, 'outbox-key-1');
    expect(first.statusCode, first.body).toBe(201);
    await onlyEvent('claim.created', first.data.claim.id);
    const before = await eventCount();
    const replay = await claim(codes[303]!, who, 'outbox-key-1');
    expect(replay.statusCode).toBe(201);
    expect(replay.data).toEqual(first.data);
    expect(await eventCount()).toBe(before);
    await onlyEvent('claim.created', first.data.claim.id);
  });

  it('carries the claim as GET /v1/claims/{id} returns it', async () => {
    const who = await customer();
    const { normalized } = await multiList();
    const made = await claim(normalized, who);
    expect(made.statusCode, made.body).toBe(201);
    const event = await onlyEvent('claim.created', made.data.claim.id);
    expect(event.data).toEqual(await get(`/v1/claims/${made.data.claim.id}`));
    expect(made.data.claim).toEqual(
      Object.fromEntries(Object.entries(event.data).filter(([key]) => key in made.data.claim)),
    );
  });
});

describe('the other events', () => {
  it('claim.reversed carries the reversed claim', async () => {
    const who = await customer();
    const made = await claim(codes[304]!, who);
    const id = made.data.claim.id;
    const reversed = await t.call('agent', {
      method: 'POST',
      url: `/v1/claims/${id}/reversal`,
      payload: { reason: 'returned' },
    });
    expect(reversed.statusCode, reversed.body).toBe(200);
    expect((await onlyEvent('claim.reversed', id)).data).toEqual(await get(`/v1/claims/${id}`));
    const again = await t.call('agent', { method: 'POST', url: `/v1/claims/${id}/reversal`, payload: { reason: 'x' } });
    expect(again.statusCode).toBe(409);
    await onlyEvent('claim.reversed', id);
  });

  it('code.cancelled carries the code as its lookup shows it, once', async () => {
    const code = codes[310]!;
    const cancel = () =>
      t.call('agent', { method: 'POST', url: `/v1/codes/${code}/cancel`, payload: { reason: 'printed wrong' } });
    expect((await cancel()).statusCode).toBe(200);
    expect((await cancel()).statusCode).toBe(200);
    const found = await t.pool.query<StoredEvent>(
      "SELECT data FROM events WHERE type = 'code.cancelled' AND data->>'normalized' = $1",
      [code],
    );
    expect(found.rows).toHaveLength(1);
    expect(found.rows[0]!.data).toEqual(await get(`/v1/codes/${code}`));
  });

  it('list.created and list.updated carry the list', async () => {
    const list = await newList({ name: 'Outbox list', type: 'single_use', description: 'before' });
    expect((await onlyEvent('list.created', list.id)).data).toEqual(await get(`/v1/lists/${list.id}`));
    const patched = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/lists/${list.id}`,
      payload: { description: 'after', redemption_cap: 10 },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const updated = await onlyEvent('list.updated', list.id);
    expect(updated.data).toEqual(await get(`/v1/lists/${list.id}`));
    expect(updated.data.description).toBe('after');
  });

  it('customer.blocked carries the profile, once', async () => {
    const who = await customer();
    const block = () =>
      t.call('agent', { method: 'POST', url: `/v1/customers/${who}/block`, payload: { reason: 'fraud' } });
    expect((await block()).statusCode).toBe(200);
    expect((await block()).statusCode).toBe(200);
    const event = await onlyEvent('customer.blocked', who);
    expect(event.data).toEqual(await get(`/v1/customers/${who}`));
    expect(event.data).toMatchObject({ blocked: true, blocked_reason: 'fraud' });
  });

  it('customer.locked_out carries the profile, from the claim that locked the customer out', async () => {
    const who = await customer();
    for (let i = 0; i < 3; i++) expect((await claim(`NOPE-LOCK-${i}`, who)).data.error.code).toBe('code_not_found');
    expect((await claim('NOPE-LOCK-4', who)).data.error.code).toBe('customer_locked_out');
    const event = await onlyEvent('customer.locked_out', who);
    expect(event.data).toEqual(await get(`/v1/customers/${who}`));
    expect(event.data.locked_out_until).toEqual(expect.any(String));
  });

  it('batch.completed and batch.failed carry the batch', async () => {
    expect((await onlyEvent('batch.completed', batch.id)).data).toEqual(await get(`/v1/batches/${batch.id}`));
    const { batch: doomed } = await singleList(5);
    await t.pool.query("UPDATE batches SET status = 'pending', completed_at = NULL WHERE id = $1", [doomed.id]);
    await failBatch(t.pool, doomed.id, 'the disk caught fire');
    const failed = await onlyEvent('batch.failed', doomed.id);
    expect(failed.data).toEqual(await get(`/v1/batches/${doomed.id}`));
    expect(failed.data).toMatchObject({ status: 'failed', error: 'the disk caught fire' });
  });

  it('import.completed and import.failed carry the import', async () => {
    const { imp } = await thirdPartyList(['OUTBOX-A1', 'OUTBOX-A2']);
    expect((await onlyEvent('import.completed', imp.id)).data).toEqual(await get(`/v1/imports/${imp.id}`));
    const { imp: doomed } = await thirdPartyList(['OUTBOX-B1']);
    await t.pool.query("UPDATE imports SET status = 'pending', completed_at = NULL WHERE id = $1", [doomed.id]);
    await failImport(t.pool, doomed.id, 'the file was eaten');
    const failed = await onlyEvent('import.failed', doomed.id);
    expect(failed.data).toEqual(await get(`/v1/imports/${doomed.id}`));
    expect(failed.data).toMatchObject({ status: 'failed', error: 'the file was eaten' });
  });

  it('every type of EVENT_TYPES has been written, and no other', async () => {
    const { rows } = await t.pool.query<{ type: string }>('SELECT DISTINCT type FROM events ORDER BY type');
    const recorded = EVENT_TYPES.filter((type) => !(NOT_YET_RECORDED as readonly string[]).includes(type));
    expect(rows.map((r) => r.type)).toEqual([...recorded].sort());
  });
});

describe('events_after', () => {
  it('holds back an event of a transaction still open, and hands it out next once it commits', async () => {
    const eventsAfter = async (xid: string, id: string) =>
      (
        await t.pool.query<StoredEvent>(
          'SELECT id::text, xid::text, type, data FROM events_after($1::xid8, $2, 1000)',
          [xid, id],
        )
      ).rows;
    // Start after every event so far, once all are certain (the worker's transactions are short).
    const total = await eventCount();
    const all = await eventually(async () => {
      const rows = await eventsAfter('0', '0');
      return rows.length === total && rows;
    });
    let cursor = all[all.length - 1]!;

    const early = new pg.Client({ connectionString: t.databaseUrl });
    const open = new pg.Client({ connectionString: t.databaseUrl });
    await Promise.all([early.connect(), open.connect()]);
    try {
      // `early` takes its transaction id first; `open` inserts first and stays open; `early`
      // then inserts (a higher event id, a lower xid) and commits.
      await early.query('BEGIN');
      await early.query('SELECT pg_current_xact_id()');
      await open.query('BEGIN');
      const held = (await open.query(`SELECT record_event('list.updated', '{"probe": "open"}') AS id`)).rows[0].id;
      const done = (await early.query(`SELECT record_event('list.updated', '{"probe": "early"}') AS id`)).rows[0].id;
      await early.query('COMMIT');
      expect(BigInt(done)).toBeGreaterThan(BigInt(held));

      // A reader by id would now see `done` and move past `held` for ever.
      const first = await eventually(async () => {
        const rows = await eventsAfter(cursor.xid, cursor.id);
        return rows.length > 0 && rows;
      });
      expect(first.map((e) => e.data)).toEqual([{ probe: 'early' }]);
      cursor = first[0]!;
      expect(await eventsAfter(cursor.xid, cursor.id)).toEqual([]);

      await open.query('COMMIT');
      const next = await eventually(async () => {
        const rows = await eventsAfter(cursor.xid, cursor.id);
        return rows.length > 0 && rows;
      });
      expect(next.map((e) => [e.id, e.data])).toEqual([[String(held), { probe: 'open' }]]);
    } finally {
      await Promise.all([early.end(), open.end()]);
      await t.pool.query(`DELETE FROM events WHERE data ? 'probe'`);
    }
  });
});
