// Reversal of a claim (docs/product.md): POST /v1/claims/{id}/reversal {reason} debits the points,
// revokes the issued offers, removes the tags the claim added, frees a single-use or
// third-party code or gives a multi-use use back, and lowers the list's claim count.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog, fixtures } from '../support/fixtures';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp();
const { customer, newList, multiList, singleList } = fixtures(t);
let agentActor = '';
let adminActor = '';

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable', status: 'Status points' },
    sources: { promo_code: 'Promo code' },
    offers: { 'free-coffee': 'Free coffee', dessert: 'Free dessert' },
  });
  agentActor = t.actors.agent;
  adminActor = t.actors.admin;
});
useTestWorker(t);

const claim = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id } });
const reverse = (id: string, reason = 'claimed by mistake', role: 'agent' | 'admin' | 'client' = 'agent') =>
  t.call(role, { method: 'POST', url: `/v1/claims/${id}/reversal`, payload: { reason } });
const getClaim = (id: string) => t.call('agent', { method: 'GET', url: `/v1/claims/${id}` });
const profile = async (id: string) => (await t.call('client', { method: 'GET', url: `/v1/customers/${id}` })).data;
const getList = async (id: string) => (await t.call('agent', { method: 'GET', url: `/v1/lists/${id}` })).data;
const lookup = async (code: string) =>
  (await t.call('agent', { method: 'GET', url: `/v1/codes/${encodeURIComponent(code)}` })).data;

async function claimed(code: string, customerId: string) {
  const res = await claim(code, customerId);
  expect(res.statusCode, res.body).toBe(201);
  return res.data.claim as { id: string; outcome: { offers?: string[] } };
}

describe('reversing a claim', () => {
  it('debits the points, revokes the offers and removes only the tags the claim added', async () => {
    const id = await customer();
    // A tag the customer had from elsewhere, and one from an earlier claim.
    await t.pool.query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, 'founder')", [id]);
    const { code: earlierCode } = await multiList({
      outcome: {
        points: { amount: 50, account: 'spendable', source: 'promo_code' },
        offers: ['dessert'],
        tags: ['vip'],
      },
    });
    const earlier = await claimed(earlierCode, id);

    const { list, code, normalized } = await multiList({
      outcome: {
        points: { amount: 100, account: 'spendable', source: 'promo_code' },
        offers: ['free-coffee', 'dessert'],
        tags: ['founder', 'spring', 'vip'],
      },
    });
    const made = await claimed(code, id);
    const before = await profile(id);
    expect(before.points).toEqual([{ account: 'spendable', balance: 150 }]);
    expect(before.tags).toEqual(['founder', 'spring', 'vip']);
    expect(before.offers).toHaveLength(3);

    const res = await reverse(made.id, 'wrong customer');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data).toMatchObject({
      id: made.id,
      code: normalized,
      list_id: list.id,
      customer_id: id,
      reversed: true,
      reversal_reason: 'wrong customer',
      reversed_by: agentActor,
      outcome: made.outcome,
    });
    expect(Date.now() - Date.parse(res.data.reversed_at)).toBeLessThan(60_000);

    const after = await profile(id);
    expect(after.points).toEqual([{ account: 'spendable', balance: 50 }]);
    expect(after.offers).toEqual([
      expect.objectContaining({ id: earlier.outcome.offers![0], offer_id: 'dessert', claim_id: earlier.id }),
    ]);
    expect(after.tags).toEqual(['founder', 'vip']);

    // The ledger keeps the credit and adds the matching debit.
    const { rows: ledger } = await t.pool.query(
      'SELECT amount::int, account_key, source_key FROM points_ledger WHERE claim_id = $1 ORDER BY id',
      [made.id],
    );
    expect(ledger).toEqual([
      { amount: 100, account_key: 'spendable', source_key: 'promo_code' },
      { amount: -100, account_key: 'spendable', source_key: 'promo_code' },
    ]);
    const { rows: offers } = await t.pool.query(
      'SELECT id::text, revoked_at FROM issued_offers WHERE claim_id = $1 ORDER BY id',
      [made.id],
    );
    expect(offers.map((o) => o.id)).toEqual([...made.outcome.offers!].sort((a, b) => Number(a) - Number(b)));
    for (const o of offers) expect(o.revoked_at).not.toBeNull();

    // GET /v1/claims/:id shows the reversal too.
    const stored = await getClaim(made.id);
    expect(stored.statusCode).toBe(200);
    expect(stored.data).toEqual(res.data);
    // The earlier claim is untouched.
    expect((await getClaim(earlier.id)).data.reversed).toBe(false);
  });

  it('debits points from the right account, and brings the balance back to what it was', async () => {
    const id = await customer();
    const { code: a } = await multiList({
      outcome: { points: { amount: 30, account: 'status', source: 'promo_code' } },
    });
    const { code: b } = await multiList({
      outcome: { points: { amount: 70, account: 'spendable', source: 'promo_code' } },
    });
    await claimed(a, id);
    const before = (await profile(id)).points;
    const made = await claimed(b, id);
    expect((await profile(id)).points).toEqual([
      { account: 'spendable', balance: 70 },
      { account: 'status', balance: 30 },
    ]);
    expect((await reverse(made.id)).statusCode).toBe(200);
    const after = (await profile(id)).points;
    expect(after.filter((p: any) => p.balance !== 0)).toEqual(before);
  });

  it('frees a single-use code: it is available again and another customer can claim it', async () => {
    const { list, codes } = await singleList(2, {
      outcome: { points: { amount: 5, account: 'spendable', source: 'promo_code' } },
    });
    const code = codes[0]!;
    const first = await customer();
    const second = await customer();
    const made = await claimed(code, first);
    expect((await claim(code, second)).data.error.code).toBe('code_already_claimed');
    expect(await getList(list.id)).toMatchObject({ claim_count: 1, available_count: 1 });

    expect((await reverse(made.id)).statusCode).toBe(200);
    expect(await lookup(code)).toMatchObject({
      status: 'available',
      claimed_by: null,
      claimed_at: null,
      claim_count: 0,
    });
    expect(await getList(list.id)).toMatchObject({ claim_count: 0, available_count: 2 });

    const again = await claimed(code.toLowerCase(), second);
    expect(again.id).not.toBe(made.id);
    expect(await lookup(code)).toMatchObject({ status: 'claimed', claimed_by: second, claim_count: 1 });
    // The lookup shows both claims, newest first, the reversed one flagged.
    expect((await lookup(code)).claims.map((c: any) => [c.id, c.reversed])).toEqual([
      [again.id, false],
      [made.id, true],
    ]);
    expect((await profile(first)).points).toEqual([{ account: 'spendable', balance: 0 }]);
    expect((await profile(second)).points).toEqual([{ account: 'spendable', balance: 5 }]);
  });

  it('frees a single-use code for the same customer too', async () => {
    const { codes } = await singleList(1);
    const id = await customer();
    const made = await claimed(codes[0]!, id);
    expect((await reverse(made.id)).statusCode).toBe(200);
    expect((await claimed(codes[0]!, id)).id).not.toBe(made.id);
  });

  it('frees a third-party code', async () => {
    const list = await newList({ type: 'third_party' });
    const imp = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.id}/imports`,
      payload: 'code\nPARTNER-REV-1\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(imp.statusCode).toBe(202);
    await eventually(
      async () =>
        (await t.call('agent', { method: 'GET', url: `/v1/imports/${imp.data.id}` })).data.status === 'active',
      30_000,
      'import',
    );
    const made = await claimed('partner-rev-1', await customer());
    expect((await reverse(made.id)).statusCode).toBe(200);
    expect((await lookup('PARTNERREV1')).status).toBe('available');
    await claimed('PARTNERREV1', await customer());
  });

  it('gives a multi-use use back: the claim count drops, and a full capped list takes a new claim', async () => {
    const { list, code } = await multiList({ redemption_cap: 2 });
    const a = await customer();
    const b = await customer();
    const c = await customer();
    const madeA = await claimed(code, a);
    await claimed(code, b);
    expect(await getList(list.id)).toMatchObject({
      claim_count: 2,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
    expect((await claim(code, c)).data.error.code).toBe('list_cap_reached');

    expect((await reverse(madeA.id)).statusCode).toBe(200);
    expect(await getList(list.id)).toMatchObject({ claim_count: 1, status: 'active', completed_reason: null });
    expect((await lookup(code)).claim_count).toBe(1);
    await claimed(code, c);
    expect(await getList(list.id)).toMatchObject({ claim_count: 2, status: 'completed' });
    // Full again: the customer whose claim was reversed is refused by the cap, not as a repeat.
    expect((await claim(code, a)).data.error.code).toBe('list_cap_reached');
  });

  it('lets the customer claim a multi-use code again after the reversal', async () => {
    const { list, code } = await multiList({
      outcome: { points: { amount: 10, account: 'spendable', source: 'promo_code' } },
    });
    const id = await customer();
    const first = await claimed(code, id);
    expect((await claim(code, id)).data.error.code).toBe('already_claimed_by_customer');
    expect((await reverse(first.id)).statusCode).toBe(200);
    expect((await getList(list.id)).claim_count).toBe(0);
    const second = await claimed(code, id);
    expect(second.id).not.toBe(first.id);
    expect((await getList(list.id)).claim_count).toBe(1);
    expect((await profile(id)).points).toEqual([{ account: 'spendable', balance: 10 }]);
  });

  it('refuses a second reversal with 409 claim_already_reversed and changes nothing more', async () => {
    const { list, code } = await multiList({
      outcome: { points: { amount: 40, account: 'spendable', source: 'promo_code' }, tags: ['x'] },
    });
    const id = await customer();
    const made = await claimed(code, id);
    const first = await reverse(made.id, 'first');
    expect(first.statusCode).toBe(200);
    const second = await reverse(made.id, 'second');
    expect(second.statusCode).toBe(409);
    expect(second.data.error.code).toBe('claim_already_reversed');
    expect((await getClaim(made.id)).data).toMatchObject({
      reversal_reason: 'first',
      reversed_at: first.data.reversed_at,
    });
    expect((await profile(id)).points).toEqual([{ account: 'spendable', balance: 0 }]);
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM points_ledger WHERE claim_id = $1', [made.id]);
    expect(rows[0].n).toBe(2);
    expect((await getList(list.id)).claim_count).toBe(0);
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=claim&entity_id=${made.id}` });
    expect(audit.data.items).toHaveLength(1);
  });

  it('writes claim.reverse to the audit log with before, after, actor and request id', async () => {
    const { code } = await multiList();
    const made = await claimed(code, await customer());
    const res = await t.call('admin', {
      method: 'POST',
      url: `/v1/claims/${made.id}/reversal`,
      payload: { reason: 'fraud' },
      headers: { 'x-request-id': 'reversal-audit-1' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.data.reversed_by).toBe(adminActor);
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=claim&entity_id=${made.id}` });
    expect(audit.data.items).toHaveLength(1);
    const event = audit.data.items[0];
    expect(event).toMatchObject({
      action: 'claim.reverse',
      entity_type: 'claim',
      entity_id: made.id,
      actor: adminActor,
      request_id: 'reversal-audit-1',
      before: { id: made.id, reversed: false, reversed_at: null },
      after: { id: made.id, reversed: true, reversal_reason: 'fraud', reversed_by: adminActor },
    });
    expect(event.after).not.toHaveProperty('slot');
  });

  it("shows reversed claims in the customer's claims", async () => {
    const { code } = await multiList();
    const id = await customer();
    const made = await claimed(code, id);
    await reverse(made.id, 'gone');
    const res = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/claims` });
    expect(res.data.items).toEqual([
      expect.objectContaining({ id: made.id, reversed: true, reversal_reason: 'gone', reversed_by: agentActor }),
    ]);
  });
});

describe('refusals', () => {
  it('answers 404 claim_not_found for an unknown claim, and 400 for a malformed id', async () => {
    for (const request of [
      { method: 'GET', url: '/v1/claims/987654321' },
      { method: 'POST', url: '/v1/claims/987654321/reversal', payload: { reason: 'x' } },
    ] as const) {
      const res = await t.call('agent', request);
      expect(res.statusCode).toBe(404);
      expect(res.data.error.code).toBe('claim_not_found');
    }
    for (const id of ['abc', '0', '-1', '1.5', '9'.repeat(19)]) {
      const res = await reverse(id);
      expect(res.statusCode, id).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
  });

  it('answers 400 validation_failed for a bad reason, and reverses nothing', async () => {
    const { code } = await multiList();
    const made = await claimed(code, await customer());
    const bodies: unknown[] = [
      {},
      { reason: '' },
      { reason: 5 },
      { reason: 'x'.repeat(501) },
      { reason: 'ok', extra: 1 },
      null,
    ];
    for (const payload of bodies) {
      const res = await t.call('agent', {
        method: 'POST',
        url: `/v1/claims/${made.id}/reversal`,
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    expect((await getClaim(made.id)).data.reversed).toBe(false);
  });

  it('lets agents and admins reverse, not clients', async () => {
    const { code } = await multiList();
    const made = await claimed(code, await customer());
    const client = await reverse(made.id, 'mine', 'client');
    expect(client.statusCode).toBe(403);
    expect(client.data.error.code).toBe('forbidden');
    expect((await getClaim(made.id)).data.reversed).toBe(false);
    expect(
      (await t.call(null, { method: 'POST', url: `/v1/claims/${made.id}/reversal`, payload: { reason: 'x' } }))
        .statusCode,
    ).toBe(401);
    expect((await reverse(made.id, 'by agent', 'agent')).statusCode).toBe(200);
  });
});
