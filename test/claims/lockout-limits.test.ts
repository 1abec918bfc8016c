// Lockouts for too many unknown codes, and per-customer claim limits (docs/product.md, §10).
// LOCKOUT_THRESHOLD=3 unknown codes within LOCKOUT_WINDOW=5m lock a customer out for
// LOCKOUT_DURATION=10m.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog, fixtures } from '../support/fixtures';

const THRESHOLD = 3;
const DURATION_S = 600;
const t = useTestApp({ LOCKOUT_THRESHOLD: String(THRESHOLD), LOCKOUT_WINDOW: '5m', LOCKOUT_DURATION: '10m' });
const { customer, multiList, multiCodes } = fixtures(t, {
  list: { outcome: { points: { amount: 10, account: 'spendable', source: 'promo_code' } } },
});

let agentActor = '';
let adminActor = '';

beforeAll(async () => {
  await createCatalog(t, { accounts: { spendable: 'Spendable' }, sources: { promo_code: 'Promo code' } });
  agentActor = t.actors.agent;
  adminActor = t.actors.admin;
});

type Res = Awaited<ReturnType<typeof t.call>>;

const claim = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id } });
const validate = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims/validate', payload: { code, customer_id } });
const profile = async (id: string) => (await t.call('client', { method: 'GET', url: `/v1/customers/${id}` })).data;
const clearLockout = (id: string, role: 'agent' | 'client' | 'admin' = 'agent') =>
  t.call(role, { method: 'POST', url: `/v1/customers/${id}/lockout/clear` });
const reverse = (id: string) =>
  t.call('agent', { method: 'POST', url: `/v1/claims/${id}/reversal`, payload: { reason: 'test' } });
const getLimits = (role: 'admin' | 'agent' | 'client' = 'admin') =>
  t.call(role, { method: 'GET', url: '/v1/settings/claim-limits' });
const putLimits = (payload: unknown, role: 'admin' | 'agent' | 'client' = 'admin') =>
  t.call(role, { method: 'PUT', url: '/v1/settings/claim-limits', payload: payload as Record<string, unknown> });

function expectError(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.data.error.code).toBe(code);
}

let unknown = 0;
const unknownCode = () => `UNKNOWN-${++unknown}`;

describe('lockout after too many unknown codes', () => {
  it(`${THRESHOLD} × code_not_found, then customer_locked_out for LOCKOUT_DURATION, even to a valid code`, async () => {
    const { code } = await multiList();
    const id = await customer('lock');
    for (let i = 0; i < THRESHOLD; i++) expectError(await claim(unknownCode(), id), 404, 'code_not_found');

    const locked = await claim(code, id);
    expectError(locked, 429, 'customer_locked_out');
    const retry = Number(locked.headers['retry-after']);
    expect(retry).toBeGreaterThan(DURATION_S - 15);
    expect(retry).toBeLessThanOrEqual(DURATION_S);
    const until = Date.parse(locked.data.error.details.locked_until);
    expect(until - Date.now()).toBeGreaterThan((DURATION_S - 15) * 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(DURATION_S * 1000);

    // Unknown codes and validations are refused the same way while it lasts.
    expectError(await claim(unknownCode(), id), 429, 'customer_locked_out');
    expectError(await validate(code, id), 429, 'customer_locked_out');
    expect((await t.pool.query('SELECT count(*)::int AS n FROM claims WHERE customer_id = $1', [id])).rows[0].n).toBe(
      0,
    );

    // The profile shows it.
    const p = await profile(id);
    expect(Date.parse(p.locked_out_until)).toBe(until);

    // Failed attempts tell the story, newest first.
    const failed = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts?result=failed` });
    expect(failed.data.items.map((a: any) => a.reason)).toEqual([
      'customer_locked_out',
      'customer_locked_out',
      'customer_locked_out',
      'code_not_found',
      'code_not_found',
      'code_not_found',
    ]);

    // Another customer is not affected.
    expect((await claim(code, await customer('lock'))).statusCode).toBe(201);
  });

  it('counts unknown codes sent to validate as well as to claim', async () => {
    const { code } = await multiList();
    const id = await customer('val');
    expectError(await validate(unknownCode(), id), 404, 'code_not_found');
    expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    expectError(await validate(unknownCode(), id), 404, 'code_not_found');
    expectError(await validate(code, id), 429, 'customer_locked_out');
    expectError(await claim(code, id), 429, 'customer_locked_out');
  });

  it('counts only unknown codes: other refusals and successes do not lock', async () => {
    const { code } = await multiList();
    const { code: pending } = await multiList({ starts_at: new Date(Date.now() + 86_400_000).toISOString() });
    const id = await customer('mixed');
    expect((await claim(code, id)).statusCode).toBe(201);
    for (let i = 0; i < THRESHOLD + 1; i++) {
      expectError(await claim(code, id), 409, 'already_claimed_by_customer');
      expectError(await claim(pending, id), 409, 'list_not_started');
    }
    for (let i = 0; i < THRESHOLD - 1; i++) expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    expect((await validate((await multiList()).code, id)).statusCode).toBe(200);
    expect((await profile(id)).locked_out_until).toBeNull();
  });

  it('lets an agent clear a lockout: audited, and the count starts again from zero', async () => {
    const { code } = await multiList();
    const id = await customer('clear');
    for (let i = 0; i < THRESHOLD; i++) await claim(unknownCode(), id);
    expectError(await claim(code, id), 429, 'customer_locked_out');
    const lockedUntil = (await profile(id)).locked_out_until;
    expect(lockedUntil).not.toBeNull();

    expectError(await clearLockout(id, 'client'), 403, 'forbidden');
    const cleared = await clearLockout(id);
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.data).toMatchObject({ id, locked_out_until: null, blocked: false });
    expect((await profile(id)).locked_out_until).toBeNull();

    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=customer&entity_id=${id}` });
    // Newest first: the clear, then the lockout itself (recorded by the service).
    expect(audit.data.items.map((e: { action: string }) => e.action)).toEqual([
      'customer.lockout_clear',
      'customer.lockout',
    ]);
    expect(audit.data.items[1]).toMatchObject({
      actor: 'system:lockout',
      after: { locked_out_until: expect.any(String) },
    });
    expect(audit.data.items[0]).toMatchObject({
      action: 'customer.lockout_clear',
      actor: agentActor,
      before: { locked_out_until: expect.any(String) },
      after: { locked_out_until: null },
    });
    expect(Date.parse(audit.data.items[0].before.locked_out_until)).toBe(Date.parse(lockedUntil));

    // The earlier unknown codes no longer count: THRESHOLD - 1 more are answered normally.
    for (let i = 0; i < THRESHOLD - 1; i++) expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    const ok = await claim(code, id);
    expect(ok.statusCode, ok.body).toBe(201);
    expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    expectError(await claim(unknownCode(), id), 429, 'customer_locked_out');

    // Clearing when no lockout runs still restarts the count, so it is audited too.
    const other = await customer('clear');
    const noop = await clearLockout(other);
    expect(noop.statusCode).toBe(200);
    expect(noop.data.locked_out_until).toBeNull();
    const audited = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=customer&entity_id=${other}` });
    expect(audited.data.items).toHaveLength(1);
    expect(audited.data.items[0]).toMatchObject({
      action: 'customer.lockout_clear',
      before: { locked_out_until: null },
    });

    expectError(await clearLockout('no-such-customer'), 404, 'customer_not_found');
  });

  it(`locks out after exactly ${THRESHOLD} of 30 unknown codes sent at once`, async () => {
    const id = await customer('burst');
    const answers = await Promise.all(Array.from({ length: 30 }, () => claim(unknownCode(), id)));
    const tally: Record<string, number> = {};
    for (const a of answers)
      tally[`${a.statusCode} ${a.data.error.code}`] = (tally[`${a.statusCode} ${a.data.error.code}`] ?? 0) + 1;
    expect(tally).toEqual({ '404 code_not_found': THRESHOLD, '429 customer_locked_out': 30 - THRESHOLD });
    for (const a of answers.filter((x) => x.statusCode === 429))
      expect(Number(a.headers['retry-after'])).toBeGreaterThan(DURATION_S - 30);
    const { rows } = await t.pool.query(
      `SELECT count(*) FILTER (WHERE reason = 'code_not_found')::int AS unknown, count(*)::int AS total
         FROM attempts WHERE customer_id = $1`,
      [id],
    );
    expect(rows[0]).toEqual({ unknown: THRESHOLD, total: 30 });
  });

  it('a burst mixing claims and validations by one customer also stops at the threshold', async () => {
    const id = await customer('burst');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? validate(unknownCode(), id) : claim(unknownCode(), id))),
    );
    expect(answers.filter((a) => a.statusCode === 404)).toHaveLength(THRESHOLD);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(20 - THRESHOLD);
  });

  it('forgets unknown codes older than LOCKOUT_WINDOW', async () => {
    const { code } = await multiList();
    const id = await customer('window');
    for (let i = 0; i < THRESHOLD - 1; i++) expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    // They happened 6 minutes ago: outside the 5-minute window.
    await t.pool.query("UPDATE attempts SET at = at - interval '6 minutes' WHERE customer_id = $1", [id]);
    for (let i = 0; i < THRESHOLD - 1; i++) expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    expect((await profile(id)).locked_out_until).toBeNull();
    expect((await claim(code, id)).statusCode).toBe(201);
    // Still within the window: 4 minutes ago.
    await t.pool.query(
      "UPDATE attempts SET at = at - interval '4 minutes' WHERE customer_id = $1 AND at > now() - interval '1 minute'",
      [id],
    );
    expectError(await claim(unknownCode(), id), 404, 'code_not_found');
    expectError(await claim(unknownCode(), id), 429, 'customer_locked_out');
  });

  it('ends the lockout when LOCKOUT_DURATION has passed', async () => {
    const { code } = await multiList();
    const id = await customer('expire');
    for (let i = 0; i < THRESHOLD; i++) await claim(unknownCode(), id);
    expectError(await claim(code, id), 429, 'customer_locked_out');
    // Eleven minutes later: the lockout is over and the unknown codes are out of the window.
    await t.pool.query("UPDATE customers SET locked_until = locked_until - interval '11 minutes' WHERE id = $1", [id]);
    await t.pool.query("UPDATE attempts SET at = at - interval '11 minutes' WHERE customer_id = $1", [id]);
    expect((await profile(id)).locked_out_until).toBeNull();
    expect((await claim(code, id)).statusCode).toBe(201);
    expectError(await claim(unknownCode(), id), 404, 'code_not_found');
  });
});

describe('claim limits', () => {
  afterEach(async () => {
    expect((await putLimits({})).statusCode).toBe(200);
  });

  it('are read and set by admins only', async () => {
    const none = await getLimits();
    expect(none.statusCode).toBe(200);
    expect(none.data).toEqual({ per_week: null, per_month: null, per_year: null });
    expectError(await getLimits('agent'), 403, 'forbidden');
    expectError(await getLimits('client'), 403, 'forbidden');
    expectError(await putLimits({ per_week: 1 }, 'agent'), 403, 'forbidden');
    expectError(await putLimits({ per_week: 1 }, 'client'), 403, 'forbidden');
    expect((await getLimits()).data).toEqual({ per_week: null, per_month: null, per_year: null });

    const set = await putLimits({ per_week: 2, per_year: 50 });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.data).toEqual({ per_week: 2, per_month: null, per_year: 50 });
    expect((await getLimits()).data).toEqual({ per_week: 2, per_month: null, per_year: 50 });

    // PUT replaces: a period left out has no limit.
    expect((await putLimits({ per_month: 9 })).data).toEqual({ per_week: null, per_month: 9, per_year: null });
    expect((await getLimits()).data).toEqual({ per_week: null, per_month: 9, per_year: null });

    const audit = await t.call('admin', {
      method: 'GET',
      url: '/v1/audit?entity_type=settings&entity_id=claim_limits',
    });
    expect(audit.data.items[0]).toMatchObject({
      action: 'settings.claim_limits',
      actor: adminActor,
      before: { per_week: 2, per_month: null, per_year: 50 },
      after: { per_week: null, per_month: 9, per_year: null },
    });
  });

  it('refuses bad limits with 400 validation_failed', async () => {
    for (const body of [
      { per_week: 0 },
      { per_week: -1 },
      { per_week: 1.5 },
      { per_week: '2' },
      { per_day: 1 },
      { per_month: true },
      [1],
      { per_year: 1_000_001 },
    ]) {
      const res = await putLimits(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    expect((await getLimits()).data).toEqual({ per_week: null, per_month: null, per_year: null });
  });

  it('per_week 2: the third claim is refused with customer_limit_reached; others are unaffected', async () => {
    expect((await putLimits({ per_week: 2 })).statusCode).toBe(200);
    const codes = await multiCodes(3);
    const id = await customer('week');
    expect((await claim(codes[0]!, id)).statusCode).toBe(201);
    expect((await claim(codes[1]!, id)).statusCode).toBe(201);
    const refused = await claim(codes[2]!, id);
    expectError(refused, 409, 'customer_limit_reached');
    expect(refused.data.error.details).toMatchObject({ period: 'week', limit: 2 });
    expectError(await validate(codes[2]!, id), 409, 'customer_limit_reached');
    expect((await profile(id)).points).toEqual([{ account: 'spendable', balance: 20 }]);
    expect((await claim(codes[2]!, await customer('week'))).statusCode).toBe(201);
  });

  it('does not count a reversed claim: the reversal frees a slot', async () => {
    expect((await putLimits({ per_week: 2 })).statusCode).toBe(200);
    const codes = await multiCodes(4);
    const id = await customer('rev');
    const first = await claim(codes[0]!, id);
    expect((await claim(codes[1]!, id)).statusCode).toBe(201);
    expectError(await claim(codes[2]!, id), 409, 'customer_limit_reached');
    expect((await reverse(first.data.claim.id)).statusCode).toBe(200);
    expect((await claim(codes[2]!, id)).statusCode).toBe(201);
    expectError(await claim(codes[3]!, id), 409, 'customer_limit_reached');
  });

  it('counts a rolling week: claims more than 7 days old no longer count towards per_week', async () => {
    expect((await putLimits({ per_week: 2 })).statusCode).toBe(200);
    const codes = await multiCodes(4);
    const id = await customer('roll');
    expect((await claim(codes[0]!, id)).statusCode).toBe(201);
    expect((await claim(codes[1]!, id)).statusCode).toBe(201);
    expectError(await claim(codes[2]!, id), 409, 'customer_limit_reached');
    await t.pool.query("UPDATE claims SET claimed_at = now() - interval '8 days' WHERE customer_id = $1", [id]);
    expect((await claim(codes[2]!, id)).statusCode).toBe(201);
    expect((await claim(codes[3]!, id)).statusCode).toBe(201);
  });

  it('per_month: claims in the last month count, older ones do not', async () => {
    expect((await putLimits({ per_month: 2 })).statusCode).toBe(200);
    const codes = await multiCodes(3);
    const id = await customer('month');
    expect((await claim(codes[0]!, id)).statusCode).toBe(201);
    expect((await claim(codes[1]!, id)).statusCode).toBe(201);
    // Ten days ago: out of the week, within the month.
    await t.pool.query("UPDATE claims SET claimed_at = now() - interval '10 days' WHERE customer_id = $1", [id]);
    const refused = await claim(codes[2]!, id);
    expectError(refused, 409, 'customer_limit_reached');
    expect(refused.data.error.details).toMatchObject({ period: 'month', limit: 2 });
    await t.pool.query("UPDATE claims SET claimed_at = now() - interval '40 days' WHERE customer_id = $1", [id]);
    expect((await claim(codes[2]!, id)).statusCode).toBe(201);
  });

  it('per_year: claims in the last year count, older ones do not', async () => {
    expect((await putLimits({ per_year: 2 })).statusCode).toBe(200);
    const codes = await multiCodes(3);
    const id = await customer('year');
    expect((await claim(codes[0]!, id)).statusCode).toBe(201);
    expect((await claim(codes[1]!, id)).statusCode).toBe(201);
    await t.pool.query("UPDATE claims SET claimed_at = now() - interval '200 days' WHERE customer_id = $1", [id]);
    const refused = await claim(codes[2]!, id);
    expectError(refused, 409, 'customer_limit_reached');
    expect(refused.data.error.details).toMatchObject({ period: 'year', limit: 2 });
    await t.pool.query("UPDATE claims SET claimed_at = now() - interval '400 days' WHERE customer_id = $1", [id]);
    expect((await claim(codes[2]!, id)).statusCode).toBe(201);
  });

  it('names the first period that is full when several are set', async () => {
    expect((await putLimits({ per_week: 5, per_month: 3, per_year: 10 })).statusCode).toBe(200);
    const id = await customer('several');
    for (let i = 0; i < 3; i++) expect((await claim((await multiList()).code, id)).statusCode).toBe(201);
    const refused = await claim((await multiList()).code, id);
    expectError(refused, 409, 'customer_limit_reached');
    expect(refused.data.error.details).toMatchObject({ period: 'month', limit: 3 });
  });

  it('null clears a limit', async () => {
    expect((await putLimits({ per_week: 1 })).statusCode).toBe(200);
    const id = await customer('null');
    expect((await claim((await multiList()).code, id)).statusCode).toBe(201);
    expectError(await claim((await multiList()).code, id), 409, 'customer_limit_reached');
    const cleared = await putLimits({ per_week: null, per_month: null, per_year: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.data).toEqual({ per_week: null, per_month: null, per_year: null });
    expect((await getLimits()).data).toEqual({ per_week: null, per_month: null, per_year: null });
    for (let i = 0; i < 3; i++) expect((await claim((await multiList()).code, id)).statusCode).toBe(201);
  });

  it('per_week 3: one customer firing 20 claims on 20 codes at once gets exactly 3', async () => {
    expect((await putLimits({ per_week: 3 })).statusCode).toBe(200);
    const codes = await Promise.all(Array.from({ length: 20 }, async () => (await multiList()).code));
    const id = await customer('parallel');
    const answers = await Promise.all(codes.map((code) => claim(code, id)));
    const tally: Record<string, number> = {};
    for (const a of answers) {
      const key = a.statusCode === 201 ? '201' : `${a.statusCode} ${a.data.error.code}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    expect(tally).toEqual({ '201': 3, '409 customer_limit_reached': 17 });
    const { rows } = await t.pool.query(
      `SELECT (SELECT count(*)::int FROM claims WHERE customer_id = $1) AS claims,
              (SELECT COALESCE(sum(amount), 0)::int FROM points_ledger WHERE customer_id = $1) AS balance`,
      [id],
    );
    expect(rows[0]).toEqual({ claims: 3, balance: 30 });
  });
});
