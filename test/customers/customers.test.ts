import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';

const t = useTestApp();

const url = (id: string, suffix = '') => `/v1/customers/${encodeURIComponent(id)}${suffix}`;
const put = (id: string, payload: object, role: 'client' | 'agent' | 'admin' = 'client') =>
  t.call(role, { method: 'PUT', url: url(id), payload });
const auditOf = async (id: string) => {
  const res = await t.call('admin', {
    method: 'GET',
    url: `/v1/audit?entity_type=customer&entity_id=${encodeURIComponent(id)}`,
  });
  expect(res.statusCode).toBe(200);
  return (res.data.items as { action: string; before: any; after: any }[]).reverse(); // oldest first
};

describe('registering customers', () => {
  it('creates with 201, updates with 200, and keeps fields left out', async () => {
    const created = await put('c-1', { email: 'ann@example.com', name: 'Ann' });
    expect(created.statusCode).toBe(201);
    expect(created.data).toEqual({
      id: 'c-1',
      email: 'ann@example.com',
      name: 'Ann',
      blocked: false,
      blocked_at: null,
      blocked_reason: null,
      locked_out_until: null,
      points: [],
      offers: [],
      tags: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(Date.parse(created.data.created_at)).not.toBeNaN();

    const renamed = await put('c-1', { name: 'Annie' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.data).toMatchObject({
      email: 'ann@example.com',
      name: 'Annie',
      created_at: created.data.created_at,
    });
    expect(Date.parse(renamed.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.data.updated_at));

    const cleared = await put('c-1', { email: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.data).toMatchObject({ email: null, name: 'Annie' });

    const got = await t.call('client', { method: 'GET', url: url('c-1') });
    expect(got.statusCode).toBe(200);
    expect(got.data).toEqual(cleared.data);

    const bare = await put('c-bare', {});
    expect(bare.statusCode).toBe(201);
    expect(bare.data).toMatchObject({ id: 'c-bare', email: null, name: null });
    const noBody = await t.call('client', { method: 'PUT', url: url('c-no-body') });
    expect(noBody.statusCode).toBe(201);
    expect(noBody.data).toMatchObject({ id: 'c-no-body', email: null, name: null });
  });

  it('round-trips URL-encoded ids and accepts 128 characters', async () => {
    for (const id of ['jöhn.doe+1@example.com', 'a:b;c=d&e', '顧客-42', 'x'.repeat(128)]) {
      const res = await put(id, { name: 'N' });
      expect(res.statusCode, id).toBe(201);
      expect(res.data.id).toBe(id);
      const got = await t.call('agent', { method: 'GET', url: url(id) });
      expect(got.data.id).toBe(id);
    }
  });

  it('audits admin and agent changes, not client ones', async () => {
    await put('c-audit', { name: 'By client' });
    await put('c-audit', { name: 'Still client' });
    expect(await auditOf('c-audit')).toEqual([]);

    await put('c-audit', { name: 'By agent' }, 'agent');
    await put('c-admin', { email: 'a@example.com' }, 'admin');
    const [update] = await auditOf('c-audit');
    expect(update).toMatchObject({
      action: 'customer.update',
      before: { name: 'Still client' },
      after: { name: 'By agent' },
    });
    const [create] = await auditOf('c-admin');
    expect(create).toMatchObject({
      action: 'customer.create',
      before: null,
      after: { id: 'c-admin', email: 'a@example.com' },
    });
  });
});

describe('the profile', () => {
  it('sums balances per account, lists live issued offers and sorted tags', async () => {
    await put('rich', { name: 'Rich' });
    await put('other', {});
    await t.pool.query(
      `INSERT INTO point_accounts (key, name) VALUES ('spendable', 'Spendable'), ('status', 'Status')`,
    );
    await t.pool.query(`INSERT INTO point_sources (key, name) VALUES ('promo_code', 'Promo code')`);
    await t.pool.query(
      `INSERT INTO points_ledger (customer_id, account_key, source_key, amount, claim_id) VALUES
         ('rich', 'spendable', 'promo_code', 100, 1), ('rich', 'spendable', 'promo_code', 50, 2),
         ('rich', 'spendable', 'promo_code', -30, 1), ('rich', 'status', 'promo_code', 7, NULL),
         ('other', 'spendable', 'promo_code', 1000, NULL)`,
    );
    await t.pool.query(`INSERT INTO offers (id, name) VALUES ('coffee', 'Free coffee'), ('cake', 'Cake')`);
    const { rows } = await t.pool.query<{ id: string }>(
      `INSERT INTO issued_offers (customer_id, offer_id, claim_id, issued_at, revoked_at) VALUES
         ('rich', 'coffee', 5, '2026-01-02T03:04:05.678Z', NULL),
         ('rich', 'cake', NULL, '2026-01-03T00:00:00Z', NULL),
         ('rich', 'cake', 6, '2026-01-01T00:00:00Z', now()),
         ('other', 'coffee', NULL, now(), NULL)
       RETURNING id`,
    );
    await t.pool.query(
      `INSERT INTO customer_tags (customer_id, tag)
       VALUES ('rich', 'vip'), ('rich', 'Beta'), ('rich', 'alpha'), ('other', 'zzz')`,
    );

    const res = await t.call('client', { method: 'GET', url: url('rich') });
    expect(res.statusCode).toBe(200);
    expect(res.data.points).toEqual([
      { account: 'spendable', balance: 120 },
      { account: 'status', balance: 7 },
    ]);
    expect(res.data.offers).toEqual([
      {
        id: rows[0]!.id,
        offer_id: 'coffee',
        name: 'Free coffee',
        claim_id: '5',
        issued_at: '2026-01-02T03:04:05.678Z',
      },
      { id: rows[1]!.id, offer_id: 'cake', name: 'Cake', claim_id: null, issued_at: '2026-01-03T00:00:00.000Z' },
    ]);
    expect(res.data.tags).toEqual(['Beta', 'alpha', 'vip']);
  });

  it('answers 404 customer_not_found for an unknown customer', async () => {
    for (const [method, suffix] of [
      ['GET', ''],
      ['POST', '/block'],
      ['POST', '/unblock'],
    ] as const) {
      const res = await t.call('agent', { method, url: url('nobody', suffix) });
      expect(res.statusCode, `${method} ${suffix}`).toBe(404);
      expect(res.data.error.code).toBe('customer_not_found');
    }
  });
});

describe('blocking', () => {
  it('blocks and unblocks idempotently, auditing each change once', async () => {
    await put('b-1', { name: 'Bee' });
    const blocked = await t.call('agent', { method: 'POST', url: url('b-1', '/block'), payload: { reason: 'fraud' } });
    expect(blocked.statusCode).toBe(200);
    expect(blocked.data).toMatchObject({ id: 'b-1', name: 'Bee', blocked: true, blocked_reason: 'fraud' });
    expect(Date.parse(blocked.data.blocked_at)).not.toBeNaN();

    const again = await t.call('admin', { method: 'POST', url: url('b-1', '/block'), payload: { reason: 'other' } });
    expect(again.statusCode).toBe(200);
    expect(again.data).toMatchObject({ blocked: true, blocked_at: blocked.data.blocked_at, blocked_reason: 'fraud' });

    // No body and no content type at all.
    const unblocked = await t.call('agent', { method: 'POST', url: url('b-1', '/unblock') });
    expect(unblocked.statusCode).toBe(200);
    expect(unblocked.data).toMatchObject({ blocked: false, blocked_at: null, blocked_reason: null });
    const unblockedAgain = await t.call('agent', { method: 'POST', url: url('b-1', '/unblock'), payload: {} });
    expect(unblockedAgain.statusCode).toBe(200);
    expect(unblockedAgain.data.blocked).toBe(false);

    const bare = await t.call('agent', { method: 'POST', url: url('b-1', '/block') });
    expect(bare.statusCode).toBe(200);
    expect(bare.data).toMatchObject({ blocked: true, blocked_reason: null });

    const events = await auditOf('b-1');
    expect(events.map((e) => e.action)).toEqual(['customer.block', 'customer.unblock', 'customer.block']);
    expect(events[0]).toMatchObject({ before: { blocked_at: null }, after: { blocked_reason: 'fraud' } });
    expect(events[1]).toMatchObject({ before: { blocked_reason: 'fraud' }, after: { blocked_at: null } });
  });

  it('lets a client key register and read but not block', async () => {
    await put('b-2', {});
    for (const suffix of ['/block', '/unblock']) {
      const res = await t.call('client', { method: 'POST', url: url('b-2', suffix) });
      expect(res.statusCode).toBe(403);
      expect(res.data.error.code).toBe('forbidden');
    }
    expect((await t.call('client', { method: 'GET', url: url('b-2') })).data.blocked).toBe(false);
    expect((await t.call(null, { method: 'GET', url: url('b-2') })).statusCode).toBe(401);
  });
});

describe('bad input', () => {
  const failsWith = async (res: { statusCode: number; data: any }, path: string) => {
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
    expect(res.data.error.details.fields.map((d: { path: string }) => d.path)).toContain(path);
  };

  it('refuses unknown fields, wrong types and invalid values in the upsert', async () => {
    await failsWith(await put('bad', { nickname: 'x' }), 'body.nickname');
    await failsWith(await put('bad', { email: 5 }), 'body.email');
    await failsWith(await put('bad', { email: 'not-an-email' }), 'body.email');
    await failsWith(await put('bad', { name: 'n'.repeat(201) }), 'body.name');
    await failsWith(await put('bad', { name: 'nul\u0000byte' }), 'body.name');
    expect((await t.call('agent', { method: 'GET', url: url('bad') })).statusCode).toBe(404);
  });

  it('refuses ids that are too long or not one path segment', async () => {
    for (const id of ['x'.repeat(129), 'has space', 'a/b', 'tab\there', 'nul\u0000']) {
      await failsWith(await put(id, {}), 'params.id');
    }
  });

  it('refuses unknown fields and long reasons on block and unblock', async () => {
    await put('b-3', {});
    await failsWith(
      await t.call('agent', { method: 'POST', url: url('b-3', '/block'), payload: { why: 'x' } }),
      'body.why',
    );
    await failsWith(
      await t.call('agent', { method: 'POST', url: url('b-3', '/block'), payload: { reason: 'r'.repeat(501) } }),
      'body.reason',
    );
    await failsWith(
      await t.call('agent', { method: 'POST', url: url('b-3', '/unblock'), payload: { reason: 'x' } }),
      'body.reason',
    );
    expect((await t.call('agent', { method: 'GET', url: url('b-3') })).data.blocked).toBe(false);
  });
});
