// Troubleshoot (docs/product.md): GET /v1/troubleshoot?code=&customer_id= answers one report on a code
// and/or a customer. The verdict is what POST /v1/claims would answer right now, computed by
// the claim's own rules (claim_code, kind 'verdict'), with nothing written. Every verdict test
// below therefore asks troubleshoot first, then really claims, and requires the same answer.
// LOCKOUT_THRESHOLD=3 unknown codes within LOCKOUT_WINDOW=10m lock a customer out for
// LOCKOUT_DURATION=10m.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog, fixtures } from '../support/fixtures';
import { useTestWorker } from '../support/worker';

const THRESHOLD = 3;
const DURATION_S = 600;
const t = useTestApp({ LOCKOUT_THRESHOLD: String(THRESHOLD), LOCKOUT_WINDOW: '10m', LOCKOUT_DURATION: '10m' });
const { customer, multiList, singleList, thirdPartyList } = fixtures(t, {
  list: { outcome: { points: { amount: 10, account: 'spendable', source: 'promo_code' } } },
});
let agentActor = '';
let adminActor = '';

const PAST_START = '2020-01-01T00:00:00.000Z';
const future = (ms = 86_400_000) => new Date(Date.now() + ms).toISOString();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable' },
    sources: { promo_code: 'Promo code' },
    offers: { 'free-coffee': 'Free coffee' },
  });
  agentActor = t.actors.agent;
  adminActor = t.actors.admin;
});
useTestWorker(t);

// ---------------------------------------------------------------------------------------------
// helpers

type Res = Awaited<ReturnType<typeof t.call>>;

function troubleshoot(
  query: { code?: string; customer_id?: string },
  role: 'agent' | 'admin' | 'client' | null = 'agent',
): Promise<Res> {
  const params = new URLSearchParams();
  if (query.code !== undefined) params.set('code', query.code);
  if (query.customer_id !== undefined) params.set('customer_id', query.customer_id);
  const qs = params.toString();
  return t.call(role, { method: 'GET', url: `/v1/troubleshoot${qs ? `?${qs}` : ''}` });
}

async function report(query: { code?: string; customer_id?: string }): Promise<any> {
  const res = await troubleshoot(query);
  expect(res.statusCode, res.body).toBe(200);
  expectOrdered(res.data.timeline);
  return res.data;
}

const claim = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id } });
const validate = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims/validate', payload: { code, customer_id } });
const cancel = (code: string, reason = 'lost') =>
  t.call('agent', { method: 'POST', url: `/v1/codes/${encodeURIComponent(code)}/cancel`, payload: { reason } });
const reverse = (id: string, reason = 'wrong customer') =>
  t.call('agent', { method: 'POST', url: `/v1/claims/${id}/reversal`, payload: { reason } });
const block = (id: string, reason = 'fraud') =>
  t.call('agent', { method: 'POST', url: `/v1/customers/${id}/block`, payload: { reason } });
const unblock = (id: string) => t.call('agent', { method: 'POST', url: `/v1/customers/${id}/unblock` });
const clearLockout = (id: string) => t.call('agent', { method: 'POST', url: `/v1/customers/${id}/lockout/clear` });
const setLimits = (payload: Record<string, unknown>) =>
  t.call('admin', { method: 'PUT', url: '/v1/settings/claim-limits', payload });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function claimed(code: string, customerId: string): Promise<any> {
  const res = await claim(code, customerId);
  expect(res.statusCode, res.body).toBe(201);
  return res.data.claim;
}

let unknownSeq = 0;
const unknownCode = () => `no-such-ts-${++unknownSeq}`;

/** Timeline entries must be oldest first. */
function expectOrdered(timeline: { at: string }[]) {
  expect(Array.isArray(timeline)).toBe(true);
  for (const e of timeline) expect(e.at).toMatch(ISO);
  const times = timeline.map((e) => Date.parse(e.at));
  expect(times).toEqual([...times].sort((a, b) => a - b));
}

/** Everything a troubleshoot must not change: attempts, claims, codes, counters, customers, audit. */
async function snapshot() {
  const { rows } = await t.pool.query(`
    SELECT (SELECT count(*)::int FROM attempts) AS attempts,
           (SELECT coalesce(max(id), 0)::text FROM attempts) AS last_attempt,
           (SELECT count(*)::int FROM claims) AS claims,
           (SELECT count(*)::int FROM claims WHERE reversed_at IS NOT NULL) AS reversed,
           (SELECT count(*)::int FROM audit_log) AS audit,
           (SELECT count(*)::int FROM points_ledger) AS ledger,
           (SELECT count(*)::int FROM issued_offers) AS offers,
           (SELECT count(*)::int FROM customer_tags) AS tags,
           (SELECT coalesce(sum(claims), 0)::int FROM list_counters) AS counted_claims,
           (SELECT count(*)::int FROM codes WHERE claimed_by IS NOT NULL) AS claimed_codes,
           (SELECT count(*)::int FROM codes WHERE cancelled_at IS NOT NULL) AS cancelled_codes,
           (SELECT json_agg(json_build_object('id', id, 'blocked_at', blocked_at, 'locked_until', locked_until,
                                              'lockout_cleared_at', lockout_cleared_at, 'updated_at', updated_at)
                            ORDER BY id)
              FROM customers) AS customers`);
  return rows[0];
}

type Expected = { status: number; error: string | null };

/**
 * The key property: troubleshoot's verdict (asked twice, changing nothing) is exactly what a
 * claim made right after answers: status, error code, message and details.
 */
async function verdictThenClaim(code: string, customerId: string, expected: Expected) {
  const before = await snapshot();
  const first = await report({ code, customer_id: customerId });
  const second = await report({ code, customer_id: customerId });
  expect(await snapshot()).toEqual(before);
  expect(second.verdict).toEqual(first.verdict);

  const verdict = first.verdict;
  expect(Object.keys(verdict).sort()).toEqual(['details', 'error', 'message', 'status', 'would_succeed']);
  expect(verdict.status, JSON.stringify(verdict)).toBe(expected.status);
  expect(verdict.error).toBe(expected.error);
  expect(verdict.would_succeed).toBe(expected.status === 201);
  expect(typeof verdict.message).toBe('string');
  expect(verdict.message.length).toBeGreaterThan(0);

  const res = await claim(code, customerId);
  expect(res.statusCode, `claim after verdict ${JSON.stringify(verdict)}: ${res.body}`).toBe(verdict.status);
  if (verdict.would_succeed) {
    expect(verdict.error).toBeNull();
    expect(verdict.details).toBeNull();
    expect(res.data.claim).toMatchObject({ customer_id: customerId });
  } else {
    expect(res.data.error.code).toBe(verdict.error);
    expect(res.data.error.message).toBe(verdict.message);
    expect(res.data.error.details ?? null).toEqual(verdict.details);
  }
  return { report: first, verdict, claim: res };
}

// ---------------------------------------------------------------------------------------------

describe('request validation and roles', () => {
  it('answers 400 validation_failed with neither code nor customer_id', async () => {
    const res = await troubleshoot({});
    expect(res.statusCode, res.body).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
    expect(typeof res.data.error.message).toBe('string');
  });

  it('answers 400 validation_failed for empty, too long or unknown query values', async () => {
    for (const qs of [
      'code=',
      'customer_id=',
      `code=${'A'.repeat(129)}`,
      `customer_id=${'c'.repeat(129)}`,
      'code=ABC&colour=red',
      'colour=red',
      'code=A%00B',
    ]) {
      const res = await t.call('agent', { method: 'GET', url: `/v1/troubleshoot?${qs}` });
      expect(res.statusCode, `${qs}: ${res.body}`).toBe(400);
      expect(res.data.error.code, qs).toBe('validation_failed');
    }
  });

  it('is for agents and admins: a client gets 403 forbidden, no key 401', async () => {
    const id = await customer('roles');
    const { code } = await multiList();
    for (const role of ['agent', 'admin'] as const) {
      const res = await troubleshoot({ code, customer_id: id }, role);
      expect(res.statusCode, `${role}: ${res.body}`).toBe(200);
      expect(res.data.verdict.would_succeed).toBe(true);
    }
    const client = await troubleshoot({ code, customer_id: id }, 'client');
    expect(client.statusCode).toBe(403);
    expect(client.data.error.code).toBe('forbidden');
    const anonymous = await troubleshoot({ code, customer_id: id }, null);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.data.error.code).toBe('unauthorized');
  });
});

describe('the verdict is what a claim answers right now', () => {
  it('success on a multi-use code, in any typed form: would_succeed, 201', async () => {
    const { list, code, normalized } = await multiList();
    const id = await customer('ok');
    const typed = ` ${code.toLowerCase()} `;
    const { report: r, claim: res } = await verdictThenClaim(typed, id, { status: 201, error: null });
    expect(r.query).toEqual({ code: typed, normalized_code: normalized, customer_id: id });
    expect(res.data.claim).toMatchObject({ code: normalized, list_id: list.id });
    // And now the same customer would be refused as a repeat.
    await verdictThenClaim(code, id, { status: 409, error: 'already_claimed_by_customer' });
  });

  it('success on a single-use code, then code_already_claimed for everyone', async () => {
    const { codes } = await singleList(1);
    const owner = await customer('ok');
    await verdictThenClaim(codes[0]!, owner, { status: 201, error: null });
    await verdictThenClaim(codes[0]!, await customer('other'), { status: 409, error: 'code_already_claimed' });
    await verdictThenClaim(codes[0]!, owner, { status: 409, error: 'code_already_claimed' });
  });

  it('customer_not_found for an unregistered customer, even with an unknown code', async () => {
    const { code } = await multiList();
    const { report: r } = await verdictThenClaim(code, 'never-registered-ts', {
      status: 404,
      error: 'customer_not_found',
    });
    expect(r.customer).toMatchObject({
      id: 'never-registered-ts',
      registered: false,
      blocked: false,
      locked_out_until: null,
    });
    await verdictThenClaim(unknownCode(), 'never-registered-ts', { status: 404, error: 'customer_not_found' });
  });

  it('customer_blocked for a blocked customer, even with an unknown code; success once unblocked', async () => {
    const { code } = await multiList();
    const id = await customer('blk');
    expect((await block(id, 'chargebacks')).statusCode).toBe(200);
    const { report: r } = await verdictThenClaim(code, id, { status: 403, error: 'customer_blocked' });
    expect(r.customer).toMatchObject({ registered: true, blocked: true, blocked_reason: 'chargebacks' });
    expect(r.customer.blocked_at).toMatch(ISO);
    await verdictThenClaim(unknownCode(), id, { status: 403, error: 'customer_blocked' });
    expect((await unblock(id)).statusCode).toBe(200);
    await verdictThenClaim(code, id, { status: 201, error: null });
  });

  it('customer_locked_out after THRESHOLD unknown codes, with the lockout in the details', async () => {
    const { code } = await multiList();
    const id = await customer('lock');
    for (let i = 0; i < THRESHOLD - 1; i++)
      await verdictThenClaim(unknownCode(), id, { status: 404, error: 'code_not_found' });
    // The THRESHOLD-th unknown code is still answered code_not_found, and locks the customer.
    await verdictThenClaim(unknownCode(), id, { status: 404, error: 'code_not_found' });
    const { verdict, claim: res } = await verdictThenClaim(code, id, { status: 429, error: 'customer_locked_out' });
    expect(verdict.details.locked_until).toMatch(ISO);
    const left = Date.parse(verdict.details.locked_until) - Date.now();
    expect(left).toBeGreaterThan((DURATION_S - 30) * 1000);
    expect(left).toBeLessThanOrEqual(DURATION_S * 1000);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(DURATION_S - 30);
    await verdictThenClaim(unknownCode(), id, { status: 429, error: 'customer_locked_out' });
    // Cleared by an agent: the claim goes through again, and the verdict says so first.
    expect((await clearLockout(id)).statusCode).toBe(200);
    await verdictThenClaim(code, id, { status: 201, error: null });
  });

  it('code_not_found for an unknown code, whatever its form', async () => {
    const id = await customer('unknown');
    const { report: r } = await verdictThenClaim('NOPE-TS-404', id, { status: 404, error: 'code_not_found' });
    expect(r.code).toBeNull();
    expect(r.query).toEqual({ code: 'NOPE-TS-404', normalized_code: 'NOPETS404', customer_id: id });
    await verdictThenClaim('---', await customer('unknown'), { status: 404, error: 'code_not_found' });
  });

  it('list_not_started before the list starts', async () => {
    const { code } = await multiList({ starts_at: future() });
    const { verdict } = await verdictThenClaim(code, await customer('pending'), {
      status: 409,
      error: 'list_not_started',
    });
    expect(verdict.details).toMatchObject({ list_id: expect.any(String) });
  });

  it('list_ended after the list ends, also once an admin moves the end into the past', async () => {
    const { code } = await multiList({ starts_at: PAST_START, ends_at: '2020-06-01T00:00:00.000Z' });
    await verdictThenClaim(code, await customer('ended'), { status: 409, error: 'list_ended' });
    const { list, code: other } = await multiList({ starts_at: PAST_START });
    const id = await customer('ended');
    await verdictThenClaim(other, id, { status: 201, error: null });
    expect(
      (
        await t.call('admin', {
          method: 'PATCH',
          url: `/v1/lists/${list.id}`,
          payload: { ends_at: '2021-01-01T00:00:00Z' },
        })
      ).statusCode,
    ).toBe(200);
    await verdictThenClaim(other, await customer('ended'), { status: 409, error: 'list_ended' });
    // Ended comes before "already claimed by this customer".
    await verdictThenClaim(other, id, { status: 409, error: 'list_ended' });
  });

  it('list_cap_reached once the cap is used, and success again after a reversal gives a use back', async () => {
    const { code } = await multiList({ redemption_cap: 1 });
    const first = await customer('cap');
    const { claim: res } = await verdictThenClaim(code, first, { status: 201, error: null });
    const second = await customer('cap');
    await verdictThenClaim(code, second, { status: 409, error: 'list_cap_reached' });
    // Cap comes before "already claimed by this customer".
    await verdictThenClaim(code, first, { status: 409, error: 'list_cap_reached' });
    expect((await reverse(res.data.claim.id)).statusCode).toBe(200);
    await verdictThenClaim(code, second, { status: 201, error: null });
  });

  it('code_cancelled for a cancelled code; list checks come first', async () => {
    const { codes } = await singleList(2);
    expect((await cancel(codes[0]!)).statusCode).toBe(200);
    await verdictThenClaim(codes[0]!.toLowerCase(), await customer('cancelled'), {
      status: 409,
      error: 'code_cancelled',
    });
    const { list, codes: pendingCodes } = await singleList(1, { starts_at: future() });
    expect(list.status).toBe('pending');
    expect((await cancel(pendingCodes[0]!)).statusCode).toBe(200);
    await verdictThenClaim(pendingCodes[0]!, await customer('cancelled'), { status: 409, error: 'list_not_started' });
  });

  it('code_already_claimed frees up after a reversal', async () => {
    const { codes } = await singleList(1);
    const owner = await customer('rev');
    const made = await claimed(codes[0]!, owner);
    const other = await customer('rev');
    await verdictThenClaim(codes[0]!, other, { status: 409, error: 'code_already_claimed' });
    expect((await reverse(made.id)).statusCode).toBe(200);
    await verdictThenClaim(codes[0]!, other, { status: 201, error: null });
  });

  it('already_claimed_by_customer for a multi-use code this customer holds; others may still claim', async () => {
    const { code } = await multiList();
    const id = await customer('twice');
    await claimed(code, id);
    const { verdict } = await verdictThenClaim(code, id, { status: 409, error: 'already_claimed_by_customer' });
    expect(verdict.details).toMatchObject({ list_id: expect.any(String) });
    await verdictThenClaim(code, await customer('twice'), { status: 201, error: null });
  });

  it('customer_limit_reached at a claim limit, with period and limit; earlier checks first', async () => {
    const { code: a } = await multiList();
    const { code: b } = await multiList();
    const { code: c } = await multiList({ starts_at: future() });
    const id = await customer('limit');
    expect((await setLimits({ per_week: 1 })).statusCode).toBe(200);
    try {
      await verdictThenClaim(a, id, { status: 201, error: null });
      const { verdict, report: r } = await verdictThenClaim(b, id, { status: 409, error: 'customer_limit_reached' });
      expect(verdict.details).toMatchObject({ period: 'week', limit: 1 });
      expect(r.customer.claims).toEqual({ week: 1, month: 1, year: 1 });
      expect(r.customer.limits).toEqual({ per_week: 1, per_month: null, per_year: null });
      await verdictThenClaim(a, id, { status: 409, error: 'already_claimed_by_customer' });
      await verdictThenClaim(c, id, { status: 409, error: 'list_not_started' });
      await verdictThenClaim(b, await customer('limit'), { status: 201, error: null });
    } finally {
      expect((await setLimits({})).statusCode).toBe(200);
    }
    await verdictThenClaim(b, id, { status: 201, error: null });
  });

  it('blocked and locked out → customer_blocked; locked out, on a pending list → customer_locked_out', async () => {
    const { code } = await multiList({ starts_at: future() });
    const id = await customer('order');
    await t.pool.query("UPDATE customers SET locked_until = now() + interval '5 minutes' WHERE id = $1", [id]);
    await verdictThenClaim(code, id, { status: 429, error: 'customer_locked_out' });
    expect((await block(id)).statusCode).toBe(200);
    await verdictThenClaim(code, id, { status: 403, error: 'customer_blocked' });
  });
});

describe('troubleshooting changes nothing', () => {
  it('an unknown code does not count towards a lockout, and no attempt is recorded', async () => {
    const { code } = await multiList();
    const id = await customer('nofx');
    for (let i = 0; i < THRESHOLD - 1; i++) expect((await claim(unknownCode(), id)).statusCode).toBe(404);
    const attemptsBefore = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts` });
    expect(attemptsBefore.data.items).toHaveLength(THRESHOLD - 1);
    const before = await snapshot();

    // Many more unknown codes than the threshold, only through troubleshoot.
    for (let i = 0; i < THRESHOLD * 3; i++) {
      const r = await report({ code: unknownCode(), customer_id: id });
      expect(r.verdict).toMatchObject({ would_succeed: false, status: 404, error: 'code_not_found' });
      expect(r.customer).toMatchObject({
        unknown_codes_in_window: THRESHOLD - 1,
        locked_out_until: null,
        lockout_threshold: THRESHOLD,
      });
    }
    expect(await snapshot()).toEqual(before);
    const attemptsAfter = await t.call('agent', { method: 'GET', url: `/v1/customers/${id}/attempts` });
    expect(attemptsAfter.data).toEqual(attemptsBefore.data);
    const profile = await t.call('client', { method: 'GET', url: `/v1/customers/${id}` });
    expect(profile.data.locked_out_until).toBeNull();
    // Still not locked out: a real claim goes through.
    expect((await claim(code, id)).statusCode).toBe(201);
  });

  it('a successful verdict claims nothing: the single-use code stays available and the cap unused', async () => {
    const { list, codes } = await singleList(1, { redemption_cap: 1 });
    const id = await customer('nofx');
    const before = await snapshot();
    for (let i = 0; i < 3; i++) {
      const r = await report({ code: codes[0]!, customer_id: id });
      expect(r.verdict.would_succeed).toBe(true);
      expect(r.code.status).toBe('available');
      expect(r.attempts).toEqual([]);
      expect(r.claims).toEqual([]);
    }
    expect(await snapshot()).toEqual(before);
    const lookup = await t.call('agent', { method: 'GET', url: `/v1/codes/${codes[0]}` });
    expect(lookup.data).toMatchObject({ status: 'available', claimed_by: null, claim_count: 0 });
    const l = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}` });
    expect(l.data).toMatchObject({ claim_count: 0, status: 'active' });
    const balance = await t.call('client', { method: 'GET', url: `/v1/customers/${id}` });
    expect(balance.data.points).toEqual([]);
    await claimed(codes[0]!, id);
  });

  it('is not audited', async () => {
    const id = await customer('nofx');
    const { code } = await multiList();
    const before = await t.call('admin', { method: 'GET', url: '/v1/audit?limit=1000' });
    await report({ code, customer_id: id });
    await report({ customer_id: id });
    await report({ code });
    const after = await t.call('admin', { method: 'GET', url: '/v1/audit?limit=1000' });
    expect(after.data.items).toEqual(before.data.items);
  });
});

describe('code only', () => {
  it('reports the code, its list with status and why, batch, status and claims; no verdict or customer', async () => {
    const { list, codes, batch } = await singleList(2, { starts_at: PAST_START, redemption_cap: 5 }, 'Report batch');
    const [code, other] = [codes[0]!, codes[1]!];
    const owner = await customer('code');
    const made = await claimed(code, owner);
    const loser = await customer('code');
    expect((await claim(code, loser)).statusCode).toBe(409);

    const typed = code.toLowerCase();
    const r = await report({ code: typed });
    expect(r.query).toEqual({ code: typed, normalized_code: code, customer_id: null });
    expect(r.verdict).toBeNull();
    expect(r.customer).toBeNull();
    expect(r.code).toMatchObject({
      code,
      normalized: code,
      status: 'claimed',
      claimed_by: owner,
      cancelled_at: null,
      cancel_reason: null,
      claim_count: 1,
      batch_id: batch.id,
      import_id: null,
      list: {
        id: list.id,
        name: list.name,
        type: 'single_use',
        status: 'active',
        completed_reason: null,
        ends_at: null,
        redemption_cap: 5,
        claim_count: 1,
      },
      source: { type: 'batch', id: batch.id, name: batch.name, status: 'active', created_by: adminActor },
    });
    expect(r.code.claimed_at).toMatch(ISO);
    expect(r.code.list.why).toBe('active with no end; 1 of 5 claims');
    expect(r.code.claims).toEqual([expect.objectContaining({ id: made.id, customer_id: owner, reversed: false })]);
    expect(r.claims.map((c: any) => c.id)).toEqual([made.id]);
    // The attempts on the code: the winner's claim and the loser's refusal, newest first.
    expect(r.attempts.map((a: any) => [a.customer_id, a.result, a.reason])).toEqual([
      [loser, 'failed', 'code_already_claimed'],
      [owner, 'succeeded', null],
    ]);
    // The other code of the batch is not in this report.
    expect(r.attempts.every((a: any) => a.code === code)).toBe(true);
    expect(JSON.stringify(r)).not.toContain(other);
    // Audit: the list and the batch.
    expect(r.audit.map((e: any) => e.action).sort()).toEqual(['batch.create', 'list.create']);
  });

  it('shows the import a third-party code came from', async () => {
    const { list, imp } = await thirdPartyList(['TS-PARTNER-0001', 'TS-PARTNER-0002']);
    const r = await report({ code: 'ts partner 0001' });
    expect(r.code).toMatchObject({
      code: 'TS-PARTNER-0001', // as uploaded, for display
      normalized: 'TSPARTNER0001',
      status: 'available',
      batch_id: null,
      import_id: imp.id,
      list: { id: list.id, type: 'third_party', status: 'active' },
      source: { type: 'import', id: imp.id, status: 'active' },
      claims: [],
    });
    expect(r.timeline.filter((e: any) => e.type === 'code_created')).toEqual([
      expect.objectContaining({ type: 'code_created', ref: { import_id: imp.id } }),
    ]);
    expect(r.audit.map((e: any) => e.action).sort()).toEqual(['import.create', 'list.create']);
  });

  it('explains the list status in `why`: pending, ended, capped, active', async () => {
    const startsAt = future();
    const { code: pending } = await multiList({ starts_at: startsAt });
    const rp = await report({ code: pending });
    expect(rp.code.list).toMatchObject({ status: 'pending' });
    expect(rp.code.list.why).toBe(`pending: starts at ${new Date(startsAt).toISOString()}`);

    const { code: ended } = await multiList({ starts_at: PAST_START, ends_at: '2020-06-01T00:00:00.000Z' });
    const re = await report({ code: ended });
    expect(re.code.list).toMatchObject({ status: 'completed', completed_reason: 'ended' });
    expect(re.code.list.why).toBe('completed: ended at 2020-06-01T00:00:00.000Z');

    const { code: capped } = await multiList({ redemption_cap: 1 });
    await claimed(capped, await customer('why'));
    const rc = await report({ code: capped });
    expect(rc.code.list).toMatchObject({ status: 'completed', completed_reason: 'cap_reached', claim_count: 1 });
    expect(rc.code.list.why).toBe('completed: reached its cap of 1 claims');
    expect(rc.code).toMatchObject({
      status: 'available',
      source: null,
      batch_id: null,
      import_id: null,
      claim_count: 1,
    });

    const endsAt = future(7 * 86_400_000);
    const { code: active } = await multiList({ ends_at: endsAt });
    const ra = await report({ code: active });
    expect(ra.code.list).toMatchObject({ status: 'active', completed_reason: null });
    expect(ra.code.list.why).toBe(`active until ${new Date(endsAt).toISOString()}; 0 of unlimited claims`);
  });

  it('an unknown code is reported as null, not 404; with a customer the verdict is code_not_found', async () => {
    const r = await report({ code: 'NOT-A-TS-CODE' });
    expect(r.code).toBeNull();
    expect(r.verdict).toBeNull();
    expect(r.customer).toBeNull();
    expect(r.claims).toEqual([]);
    expect(r.audit).toEqual([]);
    expect(r.query).toEqual({ code: 'NOT-A-TS-CODE', normalized_code: 'NOTATSCODE', customer_id: null });

    const id = await customer('unknown');
    const withCustomer = await report({ code: 'not a ts code', customer_id: id });
    expect(withCustomer.code).toBeNull();
    expect(withCustomer.customer).toMatchObject({ id, registered: true });
    expect(withCustomer.verdict).toMatchObject({
      would_succeed: false,
      status: 404,
      error: 'code_not_found',
      details: null,
    });
  });

  it('shows attempts on an unknown code that customers tried', async () => {
    const id = await customer('unknown');
    expect((await validate('GHOST-TS-CODE', id)).statusCode).toBe(404);
    const r = await report({ code: 'ghost-ts-code' });
    expect(r.code).toBeNull();
    expect(r.attempts).toEqual([
      expect.objectContaining({
        kind: 'validate',
        code: 'GHOSTTSCODE',
        customer_id: id,
        result: 'failed',
        reason: 'code_not_found',
        list_id: null,
      }),
    ]);
    expect(r.timeline.map((e: any) => e.type)).toEqual(['attempt']);
  });
});

describe('customer only', () => {
  it('reports registration, block, lockout, unknown codes in window, claim counts and limits; no verdict', async () => {
    const id = await customer('cust');
    const fresh = await report({ customer_id: id });
    expect(fresh.query).toEqual({ code: null, normalized_code: null, customer_id: id });
    expect(fresh.verdict).toBeNull();
    expect(fresh.code).toBeNull();
    expect(fresh.customer).toEqual({
      id,
      registered: true,
      blocked: false,
      blocked_at: null,
      blocked_reason: null,
      locked_out_until: null,
      unknown_codes_in_window: 0,
      lockout_threshold: THRESHOLD,
      claims: { week: 0, month: 0, year: 0 },
      limits: { per_week: null, per_month: null, per_year: null },
    });
    expect(fresh.attempts).toEqual([]);
    expect(fresh.claims).toEqual([]);
    expect(fresh.timeline).toEqual([]);

    const { code: a } = await multiList();
    const { code: b } = await multiList();
    const first = await claimed(a, id);
    const second = await claimed(b, id);
    expect((await reverse(first.id)).statusCode).toBe(200);
    expect((await claim(unknownCode(), id)).statusCode).toBe(404);
    expect((await validate(unknownCode(), id)).statusCode).toBe(404);
    expect((await setLimits({ per_month: 4, per_year: 40 })).statusCode).toBe(200);
    try {
      const r = await report({ customer_id: id });
      expect(r.verdict).toBeNull();
      expect(r.code).toBeNull();
      expect(r.customer).toMatchObject({
        registered: true,
        blocked: false,
        locked_out_until: null,
        unknown_codes_in_window: 2,
        claims: { week: 1, month: 1, year: 1 }, // the reversed claim does not count
        limits: { per_week: null, per_month: 4, per_year: 40 },
      });
      expect(r.claims.map((c: any) => [c.id, c.reversed])).toEqual([
        [second.id, false],
        [first.id, true],
      ]);
      expect(r.attempts.map((x: any) => [x.kind, x.result, x.reason])).toEqual([
        ['validate', 'failed', 'code_not_found'],
        ['claim', 'failed', 'code_not_found'],
        ['claim', 'succeeded', null],
        ['claim', 'succeeded', null],
      ]);
      expect(r.audit.map((e: any) => [e.action, e.entity_type, e.entity_id])).toEqual([
        ['claim.reverse', 'claim', first.id],
      ]);
    } finally {
      expect((await setLimits({})).statusCode).toBe(200);
    }

    // Blocked, then locked out too.
    expect((await block(id, 'abuse')).statusCode).toBe(200);
    const blocked = await report({ customer_id: id });
    expect(blocked.customer).toMatchObject({ blocked: true, blocked_reason: 'abuse' });
    expect(Date.now() - Date.parse(blocked.customer.blocked_at)).toBeLessThan(60_000);
    expect(blocked.audit.map((e: any) => e.action)).toEqual(['customer.block', 'claim.reverse']);
  });

  it('shows a running lockout and the unknown codes that caused it; a cleared lockout restarts the count', async () => {
    const id = await customer('locked');
    for (let i = 0; i < THRESHOLD; i++) expect((await claim(unknownCode(), id)).statusCode).toBe(404);
    const r = await report({ customer_id: id });
    expect(r.customer.unknown_codes_in_window).toBe(THRESHOLD);
    expect(r.customer.locked_out_until).toMatch(ISO);
    const left = Date.parse(r.customer.locked_out_until) - Date.now();
    expect(left).toBeGreaterThan((DURATION_S - 30) * 1000);
    expect(left).toBeLessThanOrEqual(DURATION_S * 1000);
    const profile = await t.call('client', { method: 'GET', url: `/v1/customers/${id}` });
    expect(Date.parse(profile.data.locked_out_until)).toBe(Date.parse(r.customer.locked_out_until));
    const lockouts = r.timeline.filter((e: any) => e.type === 'lockout');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0].summary).toContain(new Date(r.customer.locked_out_until).toISOString());
    // The lockout began with the last unknown code.
    expect(Date.parse(lockouts[0].at)).toBe(Date.parse(r.attempts[0].at));

    expect((await clearLockout(id)).statusCode).toBe(200);
    const cleared = await report({ customer_id: id });
    expect(cleared.customer).toMatchObject({ locked_out_until: null, unknown_codes_in_window: 0 });
    expect(cleared.attempts).toHaveLength(THRESHOLD);
    expect(cleared.audit.map((e: any) => e.action)).toEqual(['customer.lockout_clear', 'customer.lockout']);
    // The cleared lockout stays in the history.
    expect(cleared.timeline.filter((e: any) => e.type === 'lockout')).toHaveLength(1);
    expect(cleared.timeline.at(-1)).toMatchObject({ type: 'audit' });
    expect(cleared.timeline.at(-1).summary).toContain('customer.lockout_clear');
  });

  it('an unregistered customer is reported as not registered, not 404', async () => {
    const r = await report({ customer_id: 'nobody-ts' });
    expect(r.customer).toMatchObject({
      id: 'nobody-ts',
      registered: false,
      blocked: false,
      locked_out_until: null,
      unknown_codes_in_window: 0,
      claims: { week: 0, month: 0, year: 0 },
    });
    expect(r.verdict).toBeNull();
  });
});

describe('timeline', () => {
  it('tells a story oldest first: creation, attempts, claim, reversal, cancel, block, lockout and audit', async () => {
    // Steps are a few milliseconds apart so that each has its own timestamp.
    const step = () => sleep(15);
    const { list, codes, batch } = await singleList(2, {}, 'Timeline batch');
    const code = codes[0]!;
    const id = await customer('story');
    const bystander = await customer('story');
    // Not part of the story: another list's edit, another customer's block.
    const { list: unrelated } = await multiList();
    await step();
    expect((await block(id, 'check')).statusCode).toBe(200);
    await step();
    expect((await claim(code, id)).data.error.code).toBe('customer_blocked');
    await step();
    expect((await unblock(id)).statusCode).toBe(200);
    await step();
    expect((await validate(code, id)).statusCode).toBe(200);
    await step();
    const made = await claimed(code, id);
    await step();
    expect((await reverse(made.id, 'wrong account')).statusCode).toBe(200);
    await step();
    expect((await cancel(code, 'printed twice')).statusCode).toBe(200);
    await step();
    expect((await claim(code, id)).data.error.code).toBe('code_cancelled');
    await step();
    expect(
      (
        await t.call('admin', {
          method: 'PATCH',
          url: `/v1/lists/${list.id}`,
          payload: { name: `${list.name} (renamed)` },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await t.call('admin', {
          method: 'PATCH',
          url: `/v1/lists/${unrelated.id}`,
          payload: { name: 'unrelated renamed' },
        })
      ).statusCode,
    ).toBe(200);
    expect((await block(bystander)).statusCode).toBe(200);
    await step();
    for (let i = 0; i < THRESHOLD; i++) {
      expect((await claim(unknownCode(), id)).statusCode).toBe(404);
      await step();
    }
    expect((await claim(code, id)).data.error.code).toBe('customer_locked_out');
    await step();
    expect((await block(id, 'locked and blocked')).statusCode).toBe(200);

    const r = await report({ code: code.toLowerCase(), customer_id: id });
    expect(r.verdict).toMatchObject({ status: 403, error: 'customer_blocked' });

    const auditById = new Map(r.audit.map((e: any) => [e.id, e]));
    const keys = r.timeline.map((e: any) => {
      switch (e.type) {
        case 'audit': {
          const a: any = auditById.get(e.ref.audit_id);
          expect(a, `audit event ${e.ref.audit_id} is in the audit list`).toBeDefined();
          expect(e.summary).toContain(a.action);
          expect(Date.parse(e.at)).toBe(Date.parse(a.created_at));
          return `audit:${a.action}`;
        }
        case 'attempt': {
          const m = /^(claim|validate) of (\S+) by (\S+) (succeeded|failed: (\w+))$/.exec(e.summary);
          expect(m, e.summary).not.toBeNull();
          expect(m![3]).toBe(id);
          return `attempt:${m![1]}:${m![5] ?? 'ok'}`;
        }
        default:
          return e.type;
      }
    });
    expect(keys).toEqual([
      'audit:list.create',
      'code_created',
      'audit:batch.create',
      'audit:customer.block',
      'attempt:claim:customer_blocked',
      'audit:customer.unblock',
      'attempt:validate:ok',
      'attempt:claim:ok',
      'claim',
      'reversal',
      'audit:claim.reverse',
      'cancellation',
      'audit:code.cancel',
      'attempt:claim:code_cancelled',
      'audit:list.update',
      ...Array(THRESHOLD).fill('attempt:claim:code_not_found'),
      'lockout',
      'attempt:claim:customer_locked_out',
      'block',
      'audit:customer.block',
    ]);

    // The entries carry what they refer to.
    const byType = (type: string) => r.timeline.filter((e: any) => e.type === type);
    expect(byType('code_created')[0]).toMatchObject({ ref: { batch_id: batch.id } });
    expect(byType('code_created')[0].summary).toContain(batch.id);
    expect(byType('claim')[0]).toMatchObject({ ref: { claim_id: made.id, customer_id: id } });
    expect(byType('reversal')[0]).toMatchObject({ ref: { claim_id: made.id } });
    expect(byType('reversal')[0].summary).toContain('wrong account');
    expect(byType('reversal')[0].summary).toContain(agentActor);
    expect(byType('cancellation')[0].summary).toContain('printed twice');
    expect(byType('block')[0].summary).toContain('locked and blocked');
    expect(Date.parse(byType('claim')[0].at)).toBe(Date.parse(made.claimed_at));
    expect(Date.parse(byType('cancellation')[0].at)).toBe(Date.parse(r.code.cancelled_at));
    expect(Date.parse(byType('block')[0].at)).toBe(Date.parse(r.customer.blocked_at));
    expect(Date.parse(byType('lockout')[0].at)).toBe(Date.parse(r.customer.locked_out_until) - DURATION_S * 1000);

    // The report lists the same things the timeline is made of.
    expect(r.claims).toEqual([
      expect.objectContaining({
        id: made.id,
        reversed: true,
        reversal_reason: 'wrong account',
        reversed_by: agentActor,
      }),
    ]);
    expect(r.attempts).toHaveLength(THRESHOLD + 5);
    expect(r.audit.map((e: any) => e.action)).toEqual([
      'customer.block',
      'customer.lockout',
      'list.update',
      'code.cancel',
      'claim.reverse',
      'customer.unblock',
      'customer.block',
      'batch.create',
      'list.create',
    ]);
    expect(r.audit.find((e: any) => e.action === 'code.cancel')).toMatchObject({
      entity_type: 'code',
      entity_id: code,
      actor: agentActor,
    });
    expect(r.audit.find((e: any) => e.action === 'list.update')).toMatchObject({
      entity_type: 'list',
      entity_id: list.id,
      actor: adminActor,
      before: { name: list.name },
      after: { name: `${list.name} (renamed)` },
    });
    // Nothing about the other list or the other customer.
    expect(r.audit.some((e: any) => e.entity_id === unrelated.id || e.entity_id === bystander)).toBe(false);
  });

  it('orders every part by time for a multi-use code and a customer with several claims', async () => {
    const { code } = await multiList();
    const id = await customer('order');
    const others: string[] = [];
    // A few milliseconds apart, so that each claim has its own timestamp.
    for (let i = 0; i < 3; i++) {
      others.push((await claimed(code, await customer('order'))).id);
      await sleep(5);
    }
    const mine = await claimed(code, id);
    await sleep(5);
    expect((await reverse(mine.id)).statusCode).toBe(200);
    await sleep(5);
    const again = await claimed(code, id);
    const r = await report({ code, customer_id: id });
    expect(r.verdict).toMatchObject({ status: 409, error: 'already_claimed_by_customer' });
    // Claims on the code by everyone, and the customer's own, once each, newest first.
    expect(r.claims.map((c: any) => c.id)).toEqual([again.id, mine.id, ...[...others].reverse()]);
    expect(new Set(r.claims.map((c: any) => c.id)).size).toBe(5);
    expect(r.code.claim_count).toBe(4);
    // Every claim, reversal, attempt and audit event is in the timeline, once.
    const count = (type: string) => r.timeline.filter((e: any) => e.type === type).length;
    expect(count('claim')).toBe(r.claims.length);
    expect(count('reversal')).toBe(1);
    expect(count('attempt')).toBe(r.attempts.length);
    expect(count('audit')).toBe(r.audit.length);
    expect(count('code_created')).toBe(0); // a multi-use code comes with its list: list.create
    expect(r.timeline[0]).toMatchObject({ type: 'audit' });
    expect(r.timeline[0].summary).toContain('list.create');
    const claimIds = r.timeline.filter((e: any) => e.type === 'claim').map((e: any) => e.ref.claim_id);
    expect(claimIds.map(Number)).toEqual([...claimIds.map(Number)].sort((a, b) => a - b));
  });
});
