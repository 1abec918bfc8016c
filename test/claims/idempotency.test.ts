// Idempotency-Key on claims and reversals (docs/product.md): the same key with the same body within
// 24 hours replays the first response and changes nothing; the same key with another body is
// refused with 422 idempotency_key_reused. Keys belong to the API key that sent them.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog, fixtures } from '../support/fixtures';
import { deleteExpiredKeys } from '../../src/http/idempotency';

const t = useTestApp();
const POINTS = { amount: 100, account: 'spendable', source: 'promo_code' };
/** Its lists are multi-use lists with points, an offer and a tag. */
const { customer, multiList } = fixtures(t, {
  list: { outcome: { points: POINTS, offers: ['free-coffee'], tags: ['idem'] } },
});

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable' },
    sources: { promo_code: 'Promo code' },
    offers: { 'free-coffee': 'Free coffee' },
  });
});

const claim = (code: string, customer_id: string, key?: string, role: 'client' | 'agent' = 'client') =>
  t.call(role, {
    method: 'POST',
    url: '/v1/claims',
    payload: { code, customer_id },
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
const reverse = (id: string, reason: string, key?: string) =>
  t.call('agent', {
    method: 'POST',
    url: `/v1/claims/${id}/reversal`,
    payload: { reason },
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });

/** What the database holds for a customer: claims, ledger entries, issued offers, attempts. */
async function state(customerId: string) {
  const one = async (sql: string) => (await t.pool.query(sql, [customerId])).rows[0].n as number;
  return {
    claims: await one('SELECT count(*)::int AS n FROM claims WHERE customer_id = $1'),
    ledger: await one('SELECT count(*)::int AS n FROM points_ledger WHERE customer_id = $1'),
    balance: await one('SELECT COALESCE(sum(amount), 0)::int AS n FROM points_ledger WHERE customer_id = $1'),
    offers: await one('SELECT count(*)::int AS n FROM issued_offers WHERE customer_id = $1 AND revoked_at IS NULL'),
    attempts: (await t.call('agent', { method: 'GET', url: `/v1/customers/${customerId}/attempts` })).data.items
      .length as number,
  };
}

let keySeq = 0;
const newKey = () => `key-${Date.now()}-${++keySeq}`;

describe('a claim with an Idempotency-Key', () => {
  it('replays the first response for the same key and body, and changes nothing', async () => {
    const { code } = await multiList();
    const id = await customer();
    const key = newKey();
    const first = await claim(code, id, key);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const after = await state(id);
    expect(after).toEqual({ claims: 1, ledger: 1, balance: 100, offers: 1, attempts: 1 });

    for (let i = 0; i < 3; i++) {
      const again = await claim(code, id, key);
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.data).toEqual(first.data);
      expect(again.data.claim.id).toBe(first.data.claim.id);
    }
    expect(await state(id)).toEqual(after);

    // Without the key the same request is a new claim, refused by the rules.
    const unkeyed = await claim(code, id);
    expect(unkeyed.statusCode).toBe(409);
    expect(unkeyed.data.error.code).toBe('already_claimed_by_customer');
    expect(unkeyed.headers['idempotent-replayed']).toBeUndefined();
  });

  it('treats the same body with its fields in another order as the same request', async () => {
    const { code } = await multiList();
    const id = await customer();
    const key = newKey();
    const first = await claim(code, id, key);
    expect(first.statusCode).toBe(201);
    const reordered = await t.call('client', {
      method: 'POST',
      url: '/v1/claims',
      payload: `{"customer_id": ${JSON.stringify(id)}, "code": ${JSON.stringify(code)}}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    expect(reordered.statusCode).toBe(201);
    expect(reordered.headers['idempotent-replayed']).toBe('true');
    expect(reordered.data.claim.id).toBe(first.data.claim.id);
  });

  it('refuses the same key with a different body with 422 idempotency_key_reused, and does nothing', async () => {
    const { code } = await multiList();
    const { code: otherCode } = await multiList();
    const id = await customer();
    const other = await customer();
    const key = newKey();
    const first = await claim(code, id, key);
    expect(first.statusCode).toBe(201);

    for (const [c, who] of [
      [otherCode, id],
      [code, other],
      [code.toLowerCase(), id],
    ] as const) {
      const reused = await claim(c, who, key);
      expect(reused.statusCode, `${c} ${who}`).toBe(422);
      expect(reused.data).toEqual({ error: { code: 'idempotency_key_reused', message: expect.any(String) } });
    }
    expect(await state(other)).toEqual({ claims: 0, ledger: 0, balance: 0, offers: 0, attempts: 0 });
    expect(await state(id)).toEqual({ claims: 1, ledger: 1, balance: 100, offers: 1, attempts: 1 });
    // The key still replays its own request.
    const replay = await claim(code, id, key);
    expect(replay.statusCode).toBe(201);
    expect(replay.data.claim.id).toBe(first.data.claim.id);
  });

  it('replays a refusal too, without a second attempt, even once the refusal no longer applies', async () => {
    const id = await customer();
    const key = newKey();
    const first = await claim('NO-SUCH-CODE', id, key);
    expect(first.statusCode).toBe(404);
    expect(first.data.error.code).toBe('code_not_found');
    expect((await state(id)).attempts).toBe(1);
    const again = await claim('NO-SUCH-CODE', id, key);
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.data).toEqual(first.data);
    const attempts = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts` });
    expect(attempts.data.items).toHaveLength(1);

    // A refusal for a blocked customer stays the answer to that key after the unblock.
    const { code } = await multiList();
    const blocked = await customer();
    await t.call('agent', { method: 'POST', url: `/v1/customers/${blocked}/block` });
    const blockedKey = newKey();
    expect((await claim(code, blocked, blockedKey)).statusCode).toBe(403);
    await t.call('agent', { method: 'POST', url: `/v1/customers/${blocked}/unblock` });
    const replayed = await claim(code, blocked, blockedKey);
    expect(replayed.statusCode).toBe(403);
    expect(replayed.data.error.code).toBe('customer_blocked');
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect((await state(blocked)).claims).toBe(0);
    // A new key runs the claim.
    expect((await claim(code, blocked, newKey())).statusCode).toBe(201);
  });

  it('replays a lockout refusal with its Retry-After header', async () => {
    const { code } = await multiList();
    const id = await customer();
    await t.pool.query("UPDATE customers SET locked_until = now() + interval '5 minutes' WHERE id = $1", [id]);
    const key = newKey();
    const first = await claim(code, id, key);
    expect(first.statusCode).toBe(429);
    expect(Number(first.headers['retry-after'])).toBeGreaterThan(250);
    const again = await claim(code, id, key);
    expect(again.statusCode).toBe(429);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['retry-after']).toBeDefined();
    expect(again.data).toEqual(first.data);
  });

  it('keeps keys apart per API key: another client key with the same Idempotency-Key is independent', async () => {
    const created = await t.call('admin', {
      method: 'POST',
      url: '/v1/api-keys',
      payload: { name: 'second app', role: 'client' },
    });
    expect(created.statusCode).toBe(201);
    const secondKey = created.data.key as string;
    const asSecond = (code: string, customer_id: string, key: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/claims',
        payload: { code, customer_id },
        headers: { authorization: `Bearer ${secondKey}`, 'idempotency-key': key },
      });

    const { code } = await multiList();
    const alice = await customer();
    const bob = await customer();
    const key = newKey();
    const first = await claim(code, alice, key);
    expect(first.statusCode).toBe(201);

    // The same key and the same body from the other client is its own request: it runs, and the
    // rules refuse it; it is not a replay of the first client's claim.
    const same = await asSecond(code, alice, key);
    expect(same.statusCode).toBe(409);
    expect(JSON.parse(same.body).error.code).toBe('already_claimed_by_customer');
    expect(same.headers['idempotent-replayed']).toBeUndefined();

    // A different body under the same key is not "reused" for the other client either.
    const otherKey = newKey();
    expect((await claim(code, alice, otherKey)).statusCode).toBe(409);
    const bobs = await asSecond(code, bob, otherKey);
    expect(bobs.statusCode, bobs.body).toBe(201);
    expect(JSON.parse(bobs.body).claim.customer_id).toBe(bob);

    // Each client's key replays its own first answer.
    const secondReplay = await asSecond(code, bob, otherKey);
    expect(secondReplay.statusCode).toBe(201);
    expect(secondReplay.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(secondReplay.body).claim.id).toBe(JSON.parse(bobs.body).claim.id);
    const firstReplay = await claim(code, alice, key);
    expect(firstReplay.statusCode).toBe(201);
    expect(firstReplay.data.claim.id).toBe(first.data.claim.id);
  });

  it('runs again once the key is older than 24 hours, and then replays the new answer', async () => {
    const { code } = await multiList();
    const id = await customer();
    const key = newKey();
    const first = await claim(code, id, key);
    expect(first.statusCode).toBe(201);

    // 23 hours old: still replayed.
    await t.pool.query("UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = $1", [key]);
    const young = await claim(code, id, key);
    expect(young.statusCode).toBe(201);
    expect(young.headers['idempotent-replayed']).toBe('true');

    // 25 hours old: the request runs again, and the rules answer it.
    await t.pool.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);
    const rerun = await claim(code, id, key);
    expect(rerun.statusCode).toBe(409);
    expect(rerun.data.error.code).toBe('already_claimed_by_customer');
    expect(rerun.headers['idempotent-replayed']).toBeUndefined();
    expect(await state(id)).toMatchObject({ claims: 1, ledger: 1, balance: 100 });
    // The key now belongs to the new answer.
    const replay = await claim(code, id, key);
    expect(replay.statusCode).toBe(409);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    // An expired key may also carry a different body now.
    await t.pool.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);
    const { code: otherCode } = await multiList();
    const fresh = await claim(otherCode, id, key);
    expect(fresh.statusCode).toBe(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a malformed Idempotency-Key with 400 and claims nothing', async () => {
    const { code } = await multiList();
    const id = await customer();
    for (const key of ['has space', 'x'.repeat(256), '', 'tab\there', 'caf\u00e9']) {
      const res = await claim(code, id, key);
      expect(res.statusCode, JSON.stringify(key)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
      expect(res.data.error.details).toEqual({
        fields: [expect.objectContaining({ path: 'headers.idempotency-key' })],
      });
    }
    expect(await state(id)).toMatchObject({ claims: 0, attempts: 0 });
    // The longest and the strangest printable keys are fine.
    expect((await claim(code, id, 'k'.repeat(255))).statusCode).toBe(201);
    const { code: code2 } = await multiList();
    expect((await claim(code2, id, '!#$%&*+-.^_`|~{}[]()<>@,;:"/?=')).statusCode).toBe(201);
  });

  it('counts a key for one request across routes: a claim key reused for a reversal is refused', async () => {
    const { code } = await multiList();
    const id = await customer();
    const key = newKey();
    const made = await claim(code, id, key, 'agent');
    expect(made.statusCode).toBe(201);
    const res = await reverse(made.data.claim.id, 'mistake', key);
    expect(res.statusCode).toBe(422);
    expect(res.data.error.code).toBe('idempotency_key_reused');
    expect((await t.call('agent', { method: 'GET', url: `/v1/claims/${made.data.claim.id}` })).data.reversed).toBe(
      false,
    );
  });
});

describe('a reversal with an Idempotency-Key', () => {
  it('replays the first reversal, debits and audits once; a new request is refused as already reversed', async () => {
    const { code } = await multiList();
    const id = await customer();
    const made = (await claim(code, id)).data.claim;
    const key = newKey();
    const first = await reverse(made.id, 'wrong customer', key);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.data).toMatchObject({ id: made.id, reversed: true, reversal_reason: 'wrong customer' });
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const again = await reverse(made.id, 'wrong customer', key);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.data).toEqual(first.data);

    expect(await state(id)).toMatchObject({ claims: 1, ledger: 2, balance: 0, offers: 0 });
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=claim&entity_id=${made.id}` });
    expect(audit.data.items.map((e: any) => e.action)).toEqual(['claim.reverse']);

    const reused = await reverse(made.id, 'another reason', key);
    expect(reused.statusCode).toBe(422);
    expect(reused.data.error.code).toBe('idempotency_key_reused');

    const unkeyed = await reverse(made.id, 'wrong customer');
    expect(unkeyed.statusCode).toBe(409);
    expect(unkeyed.data.error.code).toBe('claim_already_reversed');
    const freshKey = newKey();
    const fresh = await reverse(made.id, 'wrong customer', freshKey);
    expect(fresh.statusCode).toBe(409);
    expect(fresh.data.error.code).toBe('claim_already_reversed');
    // ... and that refusal is replayed under its own key.
    const freshAgain = await reverse(made.id, 'wrong customer', freshKey);
    expect(freshAgain.statusCode).toBe(409);
    expect(freshAgain.headers['idempotent-replayed']).toBe('true');
    expect(await state(id)).toMatchObject({ ledger: 2, balance: 0 });
  });

  it('replays a refused reversal (unknown claim) under its key', async () => {
    const key = newKey();
    const first = await reverse('999999999', 'nope', key);
    expect(first.statusCode).toBe(404);
    expect(first.data.error.code).toBe('claim_not_found');
    const again = await reverse('999999999', 'nope', key);
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('uses the key per claim: the same key for another claim is reused', async () => {
    const { code } = await multiList();
    const a = (await claim(code, await customer())).data.claim;
    const b = (await claim(code, await customer())).data.claim;
    const key = newKey();
    expect((await reverse(a.id, 'same reason', key)).statusCode).toBe(200);
    const res = await reverse(b.id, 'same reason', key);
    expect(res.statusCode).toBe(422);
    expect((await t.call('agent', { method: 'GET', url: `/v1/claims/${b.id}` })).data.reversed).toBe(false);
  });
});

describe('expired keys', () => {
  it('are deleted by the hourly cleanup, and only they', async () => {
    await t.pool.query(
      `INSERT INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
       VALUES ('api_key:cleanup', 'old', 'h', 201, '{}', now() - interval '25 hours'),
              ('api_key:cleanup', 'fresh', 'h', 201, '{}', now() - interval '23 hours')`,
    );
    expect(await deleteExpiredKeys(t.pool)).toBeGreaterThanOrEqual(1);
    const { rows } = await t.pool.query(
      "SELECT key FROM idempotency_keys WHERE principal = 'api_key:cleanup' ORDER BY key",
    );
    expect(rows.map((r) => r.key)).toEqual(['fresh']);
  });
});
