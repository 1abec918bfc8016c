// The claim rules of docs/product.md: every check with its error code and HTTP status, the order in
// which they apply (first failure wins), the success body and the whole outcome, validate,
// the attempts and claims of a customer, request validation and roles.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog, fixtures } from '../support/fixtures';
import { useTestWorker } from '../support/worker';

const t = useTestApp();
const { customer, multiList, singleList, thirdPartyList } = fixtures(t);

const POINTS = { amount: 150, account: 'spendable', source: 'promo_code' };
const FULL = { points: POINTS, offers: ['free-coffee', 'dessert'], tags: ['spring', 'vip'] };
const PAST_START = '2020-01-01T00:00:00.000Z';
const future = (ms = 86_400_000) => new Date(Date.now() + ms).toISOString();

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable' },
    sources: { promo_code: 'Promo code' },
    offers: { 'free-coffee': 'Free coffee', dessert: 'Free dessert' },
  });
});
useTestWorker(t);

// ---------------------------------------------------------------------------------------------
// helpers

type Res = Awaited<ReturnType<typeof t.call>>;

const claim = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id } });
const validate = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims/validate', payload: { code, customer_id } });
const profile = async (id: string) => (await t.call('client', { method: 'GET', url: `/v1/customers/${id}` })).data;
const getList = async (id: string) => (await t.call('agent', { method: 'GET', url: `/v1/lists/${id}` })).data;
const cancel = (code: string) =>
  t.call('agent', { method: 'POST', url: `/v1/codes/${encodeURIComponent(code)}/cancel`, payload: { reason: 'lost' } });
const reverse = (id: string) =>
  t.call('agent', { method: 'POST', url: `/v1/claims/${id}/reversal`, payload: { reason: 'test' } });
const setLimits = (payload: Record<string, unknown>) =>
  t.call('admin', { method: 'PUT', url: '/v1/settings/claim-limits', payload });

function expectRefusal(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.data.error.code).toBe(code);
  expect(typeof res.data.error.message).toBe('string');
  expect(Object.keys(res.data)).toEqual(['error']);
}

/** Validate and claim must refuse alike, and the claim must leave no claim behind. */
async function expectBoth(code: string, customerId: string, status: number, reason: string) {
  const before = await liveClaims(customerId);
  const v = await validate(code, customerId);
  expectRefusal(v, status, reason);
  const c = await claim(code, customerId);
  expectRefusal(c, status, reason);
  expect(await liveClaims(customerId)).toBe(before);
  return c;
}

async function liveClaims(customerId: string): Promise<number> {
  const { rows } = await t.pool.query(
    'SELECT count(*)::int AS n FROM claims WHERE customer_id = $1 AND reversed_at IS NULL',
    [customerId],
  );
  return rows[0].n;
}

async function ledger(customerId: string) {
  const { rows } = await t.pool.query<{ amount: number; claim_id: string; account_key: string; source_key: string }>(
    'SELECT amount::int, claim_id::text, account_key, source_key FROM points_ledger WHERE customer_id = $1 ORDER BY id',
    [customerId],
  );
  return rows;
}

// ---------------------------------------------------------------------------------------------

describe('a successful claim', () => {
  it('answers 201 with the claim and issues its whole outcome: points, offers, tags', async () => {
    const { list } = await multiList({ code: 'Spring Sale-2026', outcome: FULL });
    const id = await customer('success');
    expect(await profile(id)).toMatchObject({ points: [], offers: [], tags: [] });

    const started = Date.now();
    const res = await claim('  spring-SALE 2026 ', id);
    expect(res.statusCode, res.body).toBe(201);
    expect(Object.keys(res.data)).toEqual(['claim']);
    const c = res.data.claim;
    expect(Object.keys(c).sort()).toEqual(['claimed_at', 'code', 'customer_id', 'id', 'list_id', 'outcome']);
    expect(c).toMatchObject({ code: 'SPRINGSALE2026', list_id: list.id, customer_id: id });
    expect(c.id).toMatch(/^[1-9]\d*$/);
    expect(c.claimed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Date.parse(c.claimed_at)).toBeGreaterThanOrEqual(started - 5000);
    expect(Date.parse(c.claimed_at)).toBeLessThanOrEqual(Date.now() + 5000);
    expect(Object.keys(c.outcome).sort()).toEqual(['offers', 'points', 'tags']);
    expect(c.outcome.points).toEqual(POINTS);
    expect(c.outcome.tags).toEqual(['spring', 'vip']);
    expect(c.outcome.offers).toHaveLength(2);
    for (const offerId of c.outcome.offers) expect(offerId).toMatch(/^[1-9]\d*$/);
    expect(new Set(c.outcome.offers).size).toBe(2);

    // The outcome as the customer's profile shows it.
    const p = await profile(id);
    expect(p.points).toEqual([{ account: 'spendable', balance: 150 }]);
    expect(p.tags).toEqual(['spring', 'vip']);
    expect(p.offers).toHaveLength(2);
    expect(p.offers.map((o: any) => o.id).sort()).toEqual([...c.outcome.offers].sort());
    expect(p.offers.map((o: any) => o.offer_id).sort()).toEqual(['dessert', 'free-coffee']);
    for (const o of p.offers) expect(o.claim_id).toBe(c.id);
    const byOffer = Object.fromEntries(p.offers.map((o: any) => [o.offer_id, o.name]));
    expect(byOffer).toEqual({ 'free-coffee': 'Free coffee', dessert: 'Free dessert' });

    // One ledger entry, from the claim.
    expect(await ledger(id)).toEqual([
      { amount: 150, claim_id: c.id, account_key: 'spendable', source_key: 'promo_code' },
    ]);

    // Read back by agents.
    const stored = await t.call('agent', { method: 'GET', url: `/v1/claims/${c.id}` });
    expect(stored.statusCode).toBe(200);
    expect(stored.data).toEqual({
      ...c,
      list_name: list.name,
      list_type: 'multi_use',
      reversed: false,
      reversed_at: null,
      reversal_reason: null,
      reversed_by: null,
    });
    expect((await getList(list.id)).claim_count).toBe(1);
  });

  it('matches the code in normalized form: any case, dashes, spaces, full-width characters', async () => {
    const { list } = await multiList({ code: 'Summer-Fun', outcome: { tags: ['summer'] } });
    const forms = [
      'summer-fun',
      ' SUMMERFUN ',
      's u m m e r - f u n',
      'SummerFun',
      'ｓｕｍｍｅｒ－ｆｕｎ',
      'summer\tfun',
    ];
    for (const form of forms) {
      const id = await customer('norm');
      const res = await claim(form, id);
      expect(res.statusCode, `${JSON.stringify(form)}: ${res.body}`).toBe(201);
      expect(res.data.claim).toMatchObject({ code: 'SUMMERFUN', list_id: list.id });
      expect(res.data.claim.outcome).toEqual({ tags: ['summer'] });
    }
    // Two forms of the same code are one code: the second is refused for the same customer.
    const id = await customer('norm');
    expect((await claim('summer fun', id)).statusCode).toBe(201);
    expectRefusal(await claim('SUMMER-FUN', id), 409, 'already_claimed_by_customer');
  });

  it('issues only the parts of the outcome the list has', async () => {
    const { code: pointsOnly } = await multiList({
      outcome: { points: { amount: 7, account: 'spendable', source: 'promo_code' } },
    });
    const { code: offersOnly } = await multiList({ outcome: { offers: ['dessert'] } });
    const id = await customer('parts');
    const a = await claim(pointsOnly, id);
    expect(a.statusCode).toBe(201);
    expect(a.data.claim.outcome).toEqual({ points: { amount: 7, account: 'spendable', source: 'promo_code' } });
    const b = await claim(offersOnly, id);
    expect(b.statusCode).toBe(201);
    expect(Object.keys(b.data.claim.outcome)).toEqual(['offers']);
    const p = await profile(id);
    expect(p.points).toEqual([{ account: 'spendable', balance: 7 }]);
    expect(p.offers).toEqual([
      expect.objectContaining({ id: b.data.claim.outcome.offers[0], offer_id: 'dessert', claim_id: b.data.claim.id }),
    ]);
    expect(p.tags).toEqual([]);
  });

  it('claims a generated single-use code once, in any form, and marks it claimed', async () => {
    const { list, codes } = await singleList(2, {
      outcome: { points: { amount: 10, account: 'spendable', source: 'promo_code' } },
    });
    const code = codes[0]!;
    const id = await customer('single');
    const typed = `${code.slice(0, 4).toLowerCase()}-${code.slice(4).toLowerCase()}`;
    const res = await claim(typed, id);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.data.claim).toMatchObject({ code, list_id: list.id, customer_id: id });
    const lookup = await t.call('agent', { method: 'GET', url: `/v1/codes/${code}` });
    expect(lookup.data).toMatchObject({ status: 'claimed', claimed_by: id });
    expect(await getList(list.id)).toMatchObject({ claim_count: 1, available_count: 1 });
  });

  it('claims a third-party code once, exactly like a single-use code', async () => {
    const { list } = await thirdPartyList(['TP-RULES-0001', 'TP-RULES-0002']);
    const first = await customer('tp');
    const res = await claim('tp rules 0001', first);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.data.claim).toMatchObject({ code: 'TPRULES0001', list_id: list.id });
    await expectBoth('TPRULES0001', await customer('tp'), 409, 'code_already_claimed');
  });
});

describe('each check on its own, with its error code and status', () => {
  it('1: customer_not_found 404 for an unregistered customer', async () => {
    const { code } = await multiList();
    await expectBoth(code, 'never-registered', 404, 'customer_not_found');
    // Ids are exact: another case is another customer.
    const id = await customer('Case');
    await expectBoth(code, id.toLowerCase(), 404, 'customer_not_found');
  });

  it('1b: customer_blocked 403 while an agent has blocked the customer, and claims again once unblocked', async () => {
    const { code } = await multiList();
    const id = await customer('blocked');
    expect(
      (await t.call('agent', { method: 'POST', url: `/v1/customers/${id}/block`, payload: { reason: 'fraud' } }))
        .statusCode,
    ).toBe(200);
    await expectBoth(code, id, 403, 'customer_blocked');
    expect((await t.call('agent', { method: 'POST', url: `/v1/customers/${id}/unblock` })).statusCode).toBe(200);
    expect((await claim(code, id)).statusCode).toBe(201);
  });

  it('2: customer_locked_out 429 with Retry-After while a lockout runs', async () => {
    const { code } = await multiList();
    const id = await customer('locked');
    await t.pool.query("UPDATE customers SET locked_until = now() + interval '20 minutes' WHERE id = $1", [id]);
    const res = await expectBoth(code, id, 429, 'customer_locked_out');
    const retry = Number(res.headers['retry-after']);
    expect(retry).toBeGreaterThan(1190);
    expect(retry).toBeLessThanOrEqual(1200);
    expect(Date.parse(res.data.error.details.locked_until) - Date.now()).toBeGreaterThan(1_150_000);
    // A lockout in the past is over.
    await t.pool.query("UPDATE customers SET locked_until = now() - interval '1 second' WHERE id = $1", [id]);
    expect((await claim(code, id)).statusCode).toBe(201);
  });

  it('3: code_not_found 404 for an unknown code', async () => {
    const id = await customer('unknown');
    await expectBoth('NO-SUCH-CODE-1', id, 404, 'code_not_found');
    await expectBoth('---', id, 404, 'code_not_found'); // nothing left once normalized
  });

  it('4: list_not_started 409 before the list starts', async () => {
    const { code, list } = await multiList({ starts_at: future() });
    expect(list.status).toBe('pending');
    await expectBoth(code, await customer('pending'), 409, 'list_not_started');
  });

  it('5: list_ended 409 for a list created with its end in the past', async () => {
    const { code } = await multiList({ starts_at: PAST_START, ends_at: '2020-06-01T00:00:00.000Z' });
    await expectBoth(code, await customer('ended'), 409, 'list_ended');
  });

  it('5: list_ended 409 once an admin moves the end into the past', async () => {
    const { code, list } = await multiList({ starts_at: PAST_START });
    expect((await claim(code, await customer('ending'))).statusCode).toBe(201);
    const patched = await t.call('admin', {
      method: 'PATCH',
      url: `/v1/lists/${list.id}`,
      payload: { ends_at: '2021-01-01T00:00:00Z' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await expectBoth(code, await customer('ending'), 409, 'list_ended');
  });

  it('6: list_cap_reached 409 once the list has cap claims', async () => {
    const { code, list } = await multiList({ redemption_cap: 2 });
    expect((await claim(code, await customer('cap'))).statusCode).toBe(201);
    expect((await claim(code, await customer('cap'))).statusCode).toBe(201);
    await expectBoth(code, await customer('cap'), 409, 'list_cap_reached');
    expect(await getList(list.id)).toMatchObject({
      claim_count: 2,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
  });

  it('7: code_cancelled 409 for a cancelled code', async () => {
    const { codes } = await singleList(1);
    expect((await cancel(codes[0]!)).statusCode).toBe(200);
    await expectBoth(codes[0]!.toLowerCase(), await customer('cancelled'), 409, 'code_cancelled');
  });

  it('8: code_already_claimed 409 for a claimed single-use code, whoever asks', async () => {
    const { codes } = await singleList(1);
    const owner = await customer('owner');
    expect((await claim(codes[0]!, owner)).statusCode).toBe(201);
    await expectBoth(codes[0]!, await customer('other'), 409, 'code_already_claimed');
    await expectBoth(codes[0]!, owner, 409, 'code_already_claimed');
  });

  it('9: already_claimed_by_customer 409 for a multi-use code the customer claimed; others still may', async () => {
    const { code } = await multiList();
    const id = await customer('twice');
    expect((await claim(code, id)).statusCode).toBe(201);
    await expectBoth(code, id, 409, 'already_claimed_by_customer');
    expect((await claim(code, await customer('twice'))).statusCode).toBe(201);
  });
});

describe('the order of the checks: the first failure wins', () => {
  it('an unregistered customer with an unknown code → customer_not_found', async () => {
    await expectBoth('NOT-A-CODE-9', 'ghost-customer', 404, 'customer_not_found');
  });

  it('a blocked customer with an unknown code → customer_blocked (not counted towards a lockout)', async () => {
    const id = await customer('blk');
    await t.call('agent', { method: 'POST', url: `/v1/customers/${id}/block` });
    await expectBoth('NOT-A-CODE-1', id, 403, 'customer_blocked');
    const { rows } = await t.pool.query(
      "SELECT count(*)::int AS n FROM attempts WHERE customer_id = $1 AND reason = 'code_not_found'",
      [id],
    );
    expect(rows[0].n).toBe(0);
  });

  it('a blocked and locked-out customer → customer_blocked', async () => {
    const { code } = await multiList();
    const id = await customer('blk-lock');
    await t.call('agent', { method: 'POST', url: `/v1/customers/${id}/block` });
    await t.pool.query("UPDATE customers SET locked_until = now() + interval '10 minutes' WHERE id = $1", [id]);
    await expectBoth(code, id, 403, 'customer_blocked');
  });

  it('a locked-out customer with an unknown code, or a valid one → customer_locked_out', async () => {
    const { code } = await multiList();
    const id = await customer('lock');
    await t.pool.query("UPDATE customers SET locked_until = now() + interval '10 minutes' WHERE id = $1", [id]);
    await expectBoth('NOT-A-CODE-2', id, 429, 'customer_locked_out');
    await expectBoth(code, id, 429, 'customer_locked_out');
  });

  it('a locked-out customer on a list that has not started → customer_locked_out', async () => {
    const { code } = await multiList({ starts_at: future() });
    const id = await customer('lock');
    await t.pool.query("UPDATE customers SET locked_until = now() + interval '10 minutes' WHERE id = $1", [id]);
    await expectBoth(code, id, 429, 'customer_locked_out');
  });

  it('a cancelled code on a list that has not started → list_not_started', async () => {
    const { codes } = await singleList(1, { starts_at: future() });
    expect((await cancel(codes[0]!)).statusCode).toBe(200);
    await expectBoth(codes[0]!, await customer('order'), 409, 'list_not_started');
  });

  it('a cancelled code on an ended list → list_ended', async () => {
    const { list, codes } = await singleList(1, { starts_at: PAST_START });
    expect((await cancel(codes[0]!)).statusCode).toBe(200);
    await t.call('admin', {
      method: 'PATCH',
      url: `/v1/lists/${list.id}`,
      payload: { ends_at: '2021-01-01T00:00:00Z' },
    });
    await expectBoth(codes[0]!, await customer('order'), 409, 'list_ended');
  });

  it('a claimed code on an ended list → list_ended', async () => {
    const { list, codes } = await singleList(1, { starts_at: PAST_START });
    expect((await claim(codes[0]!, await customer('order'))).statusCode).toBe(201);
    await t.call('admin', {
      method: 'PATCH',
      url: `/v1/lists/${list.id}`,
      payload: { ends_at: '2021-01-01T00:00:00Z' },
    });
    await expectBoth(codes[0]!, await customer('order'), 409, 'list_ended');
  });

  it('an ended list that is also capped out → list_ended', async () => {
    const { list, code } = await multiList({ starts_at: PAST_START, redemption_cap: 1 });
    expect((await claim(code, await customer('order'))).statusCode).toBe(201);
    await t.call('admin', {
      method: 'PATCH',
      url: `/v1/lists/${list.id}`,
      payload: { ends_at: '2021-01-01T00:00:00Z' },
    });
    await expectBoth(code, await customer('order'), 409, 'list_ended');
  });

  it('a claimed code on a capped-out list → list_cap_reached; so is an available code of that list', async () => {
    const { codes } = await singleList(3, { redemption_cap: 1 });
    expect((await claim(codes[0]!, await customer('order'))).statusCode).toBe(201);
    await expectBoth(codes[0]!, await customer('order'), 409, 'list_cap_reached');
    await expectBoth(codes[1]!, await customer('order'), 409, 'list_cap_reached');
  });

  it('a cancelled code on a capped-out list → list_cap_reached', async () => {
    const { codes } = await singleList(2, { redemption_cap: 1 });
    expect((await cancel(codes[1]!)).statusCode).toBe(200);
    expect((await claim(codes[0]!, await customer('order'))).statusCode).toBe(201);
    await expectBoth(codes[1]!, await customer('order'), 409, 'list_cap_reached');
  });

  it('a multi-use code the customer claimed, on a capped-out list → list_cap_reached', async () => {
    const { code } = await multiList({ redemption_cap: 1 });
    const id = await customer('order');
    expect((await claim(code, id)).statusCode).toBe(201);
    await expectBoth(code, id, 409, 'list_cap_reached');
  });

  it('a claim limit below later checks: code_already_claimed and already_claimed_by_customer come first', async () => {
    const { codes } = await singleList(2);
    const { code: multi } = await multiList();
    const id = await customer('limit-order');
    expect((await setLimits({ per_week: 1 })).statusCode).toBe(200);
    try {
      expect((await claim(multi, id)).statusCode).toBe(201);
      // The customer is at the limit now, yet these refusals are for earlier checks.
      expect((await claim(codes[0]!, await customer('limit-order'))).statusCode).toBe(201);
      await expectBoth(codes[0]!, id, 409, 'code_already_claimed');
      await expectBoth(multi, id, 409, 'already_claimed_by_customer');
      await expectBoth('NOT-A-CODE-3', id, 404, 'code_not_found');
      // 10: customer_limit_reached, with the period and the limit.
      const res = await expectBoth(codes[1]!, id, 409, 'customer_limit_reached');
      expect(res.data.error.details).toMatchObject({ period: 'week', limit: 1 });
    } finally {
      expect((await setLimits({})).statusCode).toBe(200);
    }
    expect((await claim(codes[1]!, id)).statusCode).toBe(201);
  });
});

describe('POST /v1/claims/validate', () => {
  it('answers 200 with what a claim would issue, and changes nothing', async () => {
    const { list, code } = await multiList({ outcome: FULL, redemption_cap: 1 });
    const id = await customer('validate');
    const before = await profile(id);
    for (let i = 0; i < 2; i++) {
      const res = await validate(code.toLowerCase(), id);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.data).toEqual({
        valid: true,
        code: code.replace(/-/g, '').toUpperCase(),
        list_id: list.id,
        customer_id: id,
        outcome: FULL,
      });
    }
    // Nothing changed: no claim, no points, no offers, no tags, no use of the cap.
    expect(await liveClaims(id)).toBe(0);
    expect(await ledger(id)).toEqual([]);
    expect(await profile(id)).toEqual(before);
    expect((await getList(list.id)).claim_count).toBe(0);
    const claims = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/claims` });
    expect(claims.data).toEqual({ items: [], next_cursor: null });
    // The one use of the capped list is still there for a claim.
    expect((await claim(code, id)).statusCode).toBe(201);
  });

  it('leaves a single-use code available', async () => {
    const { list, codes } = await singleList(1);
    const id = await customer('validate');
    expect((await validate(codes[0]!, id)).statusCode).toBe(200);
    expect((await t.call('agent', { method: 'GET', url: `/v1/codes/${codes[0]}` })).data.status).toBe('available');
    expect((await getList(list.id)).available_count).toBe(1);
    expect((await claim(codes[0]!, await customer('validate'))).statusCode).toBe(201);
  });

  it('records an attempt for each validation, successful or not', async () => {
    const { list, code } = await multiList();
    const id = await customer('validate');
    expect((await validate(code, id)).statusCode).toBe(200);
    expect((await validate('UNKNOWN-VAL', id)).statusCode).toBe(404);
    const res = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts` });
    expect(res.statusCode).toBe(200);
    expect(res.data.items).toEqual([
      expect.objectContaining({
        kind: 'validate',
        code: 'UNKNOWNVAL',
        customer_id: id,
        list_id: null,
        result: 'failed',
        reason: 'code_not_found',
        claim_id: null,
      }),
      expect.objectContaining({
        kind: 'validate',
        code: code.replace(/-/g, '').toUpperCase(),
        list_id: list.id,
        result: 'succeeded',
        reason: null,
        claim_id: null,
      }),
    ]);
  });
});

describe('attempts and claims of a customer', () => {
  it('lists every attempt newest first, filters failed ones, and pages with limit and cursor', async () => {
    const { list, code } = await multiList();
    const id = await customer('attempts');
    const ok = await claim(code, id);
    expect(ok.statusCode).toBe(201);
    await claim('NOPE-0001', id);
    await validate(code, id);
    await claim(code, id);
    await validate('nope-0002', id);

    const all = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts` });
    expect(all.statusCode).toBe(200);
    expect(all.data.next_cursor).toBeNull();
    const normalized = code.replace(/-/g, '').toUpperCase();
    expect(all.data.items.map((a: any) => [a.kind, a.code, a.result, a.reason, a.list_id, a.claim_id])).toEqual([
      ['validate', 'NOPE0002', 'failed', 'code_not_found', null, null],
      ['claim', normalized, 'failed', 'already_claimed_by_customer', list.id, null],
      ['validate', normalized, 'failed', 'already_claimed_by_customer', list.id, null],
      ['claim', 'NOPE0001', 'failed', 'code_not_found', null, null],
      ['claim', normalized, 'succeeded', null, list.id, ok.data.claim.id],
    ]);
    for (const a of all.data.items) {
      expect(a.customer_id).toBe(id);
      expect(a.id).toMatch(/^[1-9]\d*$/);
      expect(Date.parse(a.at)).not.toBeNaN();
    }
    const ids = all.data.items.map((a: any) => a.id);
    expect([...ids].sort((a: string, b: string) => Number(b) - Number(a))).toEqual(ids);

    const failed = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?result=failed` });
    expect(failed.data.items.map((a: any) => a.id)).toEqual(ids.slice(0, 4));
    const succeeded = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?result=succeeded` });
    expect(succeeded.data.items.map((a: any) => a.id)).toEqual([ids[4]]);

    // Keyset pages of two: 2 + 2 + 1, the same order, no repeats.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?limit=2${after}` });
      expect(page.statusCode).toBe(200);
      expect(page.data.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.items.map((a: any) => a.id));
      cursor = page.data.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    // Failed only, one per page.
    const first = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?result=failed&limit=3` });
    expect(first.data.items).toHaveLength(3);
    const second = await t.call('agent', {
      method: 'GET',
      url: `/v1/customers/${id}/attempts?result=failed&limit=3&cursor=${encodeURIComponent(first.data.next_cursor)}`,
    });
    expect(second.data.items.map((a: any) => a.id)).toEqual([ids[3]]);
    expect(second.data.next_cursor).toBeNull();
  });

  it('records refusals before the code check too (blocked), without a list', async () => {
    const id = await customer('attempts');
    await t.call('agent', { method: 'POST', url: `/v1/customers/${id}/block` });
    const { code } = await multiList();
    await claim(code, id);
    const res = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?result=failed` });
    expect(res.data.items).toHaveLength(1);
    expect(res.data.items[0]).toMatchObject({ kind: 'claim', result: 'failed', reason: 'customer_blocked' });
  });

  it('refuses bad query values and unknown customers', async () => {
    const id = await customer('attempts');
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'result=maybe', 'cursor=not-a-cursor', 'colour=red']) {
      const res = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    for (const path of ['attempts', 'claims']) {
      const res = await t.call('agent', { method: 'GET', url: `/v1/customers/nobody-at-all/${path}` });
      expectRefusal(res, 404, 'customer_not_found');
    }
  });

  it('lists the claims of a customer newest first, reversed ones included, with pages', async () => {
    const id = await customer('claims');
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { code } = await multiList({ outcome: { tags: [`c${i}`] } });
      const res = await claim(code, id);
      expect(res.statusCode).toBe(201);
      made.push(res.data.claim.id);
    }
    expect((await reverse(made[0]!)).statusCode).toBe(200);
    await claim('NOPE-CLAIMS', id); // a failed attempt is not a claim
    const res = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/claims` });
    expect(res.statusCode).toBe(200);
    expect(res.data.items.map((c: any) => c.id)).toEqual([...made].reverse());
    expect(res.data.items.map((c: any) => c.reversed)).toEqual([false, false, true]);
    expect(res.data.items[0]).toMatchObject({ customer_id: id, list_type: 'multi_use', outcome: { tags: ['c2'] } });
    const page1 = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/claims?limit=2` });
    expect(page1.data.items.map((c: any) => c.id)).toEqual([made[2], made[1]]);
    const page2 = await t.call('agent', {
      method: 'GET',
      url: `/v1/customers/${id}/claims?limit=2&cursor=${page1.data.next_cursor}`,
    });
    expect(page2.data).toMatchObject({ items: [expect.objectContaining({ id: made[0] })], next_cursor: null });
  });
});

describe('request validation', () => {
  const bad: [string, unknown, string?][] = [
    ['empty object', {}, 'body.code'],
    ['missing customer_id', { code: 'ABC' }, 'body.customer_id'],
    ['missing code', { customer_id: 'a' }, 'body.code'],
    ['unknown field', { code: 'ABC', customer_id: 'a', points: 100 }, 'body.points'],
    ['numeric code', { code: 12345, customer_id: 'a' }, 'body.code'],
    ['numeric customer_id', { code: 'ABC', customer_id: 7 }, 'body.customer_id'],
    ['null code', { code: null, customer_id: 'a' }, 'body.code'],
    ['array code', { code: ['ABC'], customer_id: 'a' }, 'body.code'],
    ['empty code', { code: '', customer_id: 'a' }, 'body.code'],
    ['empty customer_id', { code: 'ABC', customer_id: '' }, 'body.customer_id'],
    ['code too long', { code: 'A'.repeat(129), customer_id: 'a' }, 'body.code'],
    ['customer_id too long', { code: 'ABC', customer_id: 'c'.repeat(129) }, 'body.customer_id'],
    ['customer_id with a space', { code: 'ABC', customer_id: 'a b' }, 'body.customer_id'],
    ['customer_id with a slash', { code: 'ABC', customer_id: 'a/b' }, 'body.customer_id'],
    ['NUL in the code', { code: 'AB\u0000C', customer_id: 'a' }, 'body.code'],
    ['an array body', [{ code: 'ABC', customer_id: 'a' }]],
    ['a string body', 'ABC'],
    ['a null body', null],
  ];
  for (const route of ['/v1/claims', '/v1/claims/validate']) {
    it(`${route}: 400 validation_failed for bad bodies, naming the offending path, never 500`, async () => {
      for (const [what, payload, path] of bad) {
        const res = await t.call('client', {
          method: 'POST',
          url: route,
          payload: JSON.stringify(payload),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
        expect(res.data.error.code, what).toBe('validation_failed');
        if (path)
          expect(
            res.data.error.details.fields.map((d: any) => d.path),
            what,
          ).toContain(path);
      }
      for (const [what, options] of [
        ['malformed JSON', { payload: '{"code": "ABC", ', headers: { 'content-type': 'application/json' } }],
        ['no body', { headers: { 'content-type': 'application/json' } }],
      ] as const) {
        const res = await t.call('client', { method: 'POST', url: route, ...options });
        expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
        expect(res.data.error.code).toBe('validation_failed');
      }
      const text = await t.call('client', {
        method: 'POST',
        url: route,
        payload: 'code=ABC',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.statusCode).toBeGreaterThanOrEqual(400);
      expect(text.statusCode).toBeLessThan(500);
      expect(typeof text.data.error.code).toBe('string');
    });
  }

  it('a 128-character customer id is fine, and a bad body records no attempt', async () => {
    const id = `x${'y'.repeat(127)}`;
    expect((await t.call('client', { method: 'PUT', url: `/v1/customers/${id}`, payload: {} })).statusCode).toBe(201);
    const { code } = await multiList();
    await t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id: id, extra: true } });
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM attempts WHERE customer_id = $1', [id]);
    expect(rows[0].n).toBe(0);
    expect((await claim(code, id)).statusCode).toBe(201);
  });
});

describe('roles', () => {
  it('lets a client claim and validate, and nobody without a key', async () => {
    const { code } = await multiList();
    const id = await customer('roles');
    for (const url of ['/v1/claims/validate', '/v1/claims']) {
      const anonymous = await t.call(null, { method: 'POST', url, payload: { code, customer_id: id } });
      expectRefusal(anonymous, 401, 'unauthorized');
      const wrongKey = await t.app.inject({
        method: 'POST',
        url,
        payload: { code, customer_id: id },
        headers: { authorization: 'Bearer not-a-real-key' },
      });
      expect(wrongKey.statusCode).toBe(401);
    }
    expect(await liveClaims(id)).toBe(0);
    expect((await validate(code, id)).statusCode).toBe(200);
    expect((await claim(code, id)).statusCode).toBe(201);
  });

  it('does not let a client reverse or read claims and attempts', async () => {
    const { code } = await multiList();
    const id = await customer('roles');
    const made = (await claim(code, id)).data.claim;
    const forbidden = [
      { method: 'POST', url: `/v1/claims/${made.id}/reversal`, payload: { reason: 'mine' } },
      { method: 'GET', url: `/v1/claims/${made.id}` },
      { method: 'GET', url: `/v1/customers/${id}/claims` },
      { method: 'GET', url: `/v1/customers/${id}/attempts` },
    ] as const;
    for (const request of forbidden) {
      const res = await t.call('client', request);
      expectRefusal(res, 403, 'forbidden');
    }
    const stored = await t.call('agent', { method: 'GET', url: `/v1/claims/${made.id}` });
    expect(stored.data.reversed).toBe(false);
    expect(await ledger(id)).toEqual([]); // the list's outcome is tags only: nothing to debit either way
    expect(await liveClaims(id)).toBe(1);
  });

  it("lets an agent claim on a customer's behalf too", async () => {
    const { code } = await multiList();
    const res = await t.call('agent', {
      method: 'POST',
      url: '/v1/claims',
      payload: { code, customer_id: await customer('roles') },
    });
    expect(res.statusCode).toBe(201);
  });
});
