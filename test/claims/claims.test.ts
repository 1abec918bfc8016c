import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog, createList, registerCustomer } from '../support/fixtures';

const t = useTestApp();
const outcome = {
  points: { amount: 100, account: 'spendable', source: 'promo_code' },
  offers: ['free-coffee'],
  tags: ['vip'],
};

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable' },
    sources: { promo_code: 'Promo code' },
    offers: { 'free-coffee': 'Free coffee' },
  });
  for (const id of ['alice', 'bob']) await registerCustomer(t, id);
});

const claim = (code: string, customer_id: string, headers: Record<string, string> = {}) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id }, headers });

describe('claiming a multi-use code', () => {
  it('issues the whole outcome once per customer', async () => {
    const list = await createList(t, { name: 'Spring', type: 'multi_use', code: 'SpringSale', outcome });
    const first = await claim('spring-sale', 'alice');
    expect(first.statusCode).toBe(201);
    expect(first.data.claim).toMatchObject({
      code: 'SPRINGSALE',
      list_id: list.id,
      customer_id: 'alice',
      outcome: { points: outcome.points, tags: ['vip'] },
    });
    expect(first.data.claim.outcome.offers).toHaveLength(1);
    const again = await claim('SpringSale', 'alice');
    expect(again.statusCode).toBe(409);
    expect(again.data.error.code).toBe('already_claimed_by_customer');
    const profile = await t.call('client', { method: 'GET', url: '/v1/customers/alice' });
    expect(profile.data.points).toEqual([{ account: 'spendable', balance: 100 }]);
    expect(profile.data.tags).toEqual(['vip']);
    const view = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}` });
    expect(view.data.claim_count).toBe(1);
  });
});

describe('troubleshooting', () => {
  it('gives the verdict a claim would get and a timeline', async () => {
    const res = await t.call('agent', { method: 'GET', url: '/v1/troubleshoot?code=spring-sale&customer_id=alice' });
    expect(res.statusCode).toBe(200);
    expect(res.data.verdict).toMatchObject({ would_succeed: false, status: 409, error: 'already_claimed_by_customer' });
    expect(res.data.code.list.why).toMatch(/^active/);
    expect(res.data.timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['attempt', 'claim', 'audit']),
    );
    const fresh = await t.call('agent', { method: 'GET', url: '/v1/troubleshoot?code=SPRINGSALE&customer_id=bob' });
    expect(fresh.data.verdict).toMatchObject({ would_succeed: true, status: 201 });
    const attempts = await t.call('agent', { method: 'GET', url: '/v1/customers/bob/attempts' });
    expect(attempts.data.items).toEqual([]);
  });
});
