// Finding a code by its value and cancelling it (docs/product.md): GET /v1/codes/{code} in any form,
// and POST /v1/codes/{code}/cancel {reason} for unclaimed single-use and third-party codes.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { useTestWorker } from '../support/worker';

const t = useTestApp();
const { customer, newList, singleList, thirdPartyList } = fixtures(t);
let agentActor = '';

beforeAll(async () => {
  agentActor = t.actors.agent;
});
useTestWorker(t);

const lookup = (code: string, role: 'agent' | 'client' | 'admin' = 'agent') =>
  t.call(role, { method: 'GET', url: `/v1/codes/${encodeURIComponent(code)}` });
const cancel = (code: string, reason = 'lost in the post', role: 'agent' | 'client' | 'admin' = 'agent') =>
  t.call(role, { method: 'POST', url: `/v1/codes/${encodeURIComponent(code)}/cancel`, payload: { reason } });
const claim = (code: string, customer_id: string) =>
  t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id } });
const getList = async (id: string) => (await t.call('agent', { method: 'GET', url: `/v1/lists/${id}` })).data;
const auditOf = async (code: string) =>
  (await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=code&entity_id=${encodeURIComponent(code)}` }))
    .data.items;

/** A form of the code a customer might type: lower case, a dash in the middle, spaces around. */
const typed = (code: string) => ` ${code.slice(0, 5).toLowerCase()}-${code.slice(5).toLowerCase()} `;

describe('GET /v1/codes/{code}', () => {
  it('finds a generated code in any form, with its list, batch and status', async () => {
    const { list, batch, codes } = await singleList(3, {}, 'Lookup batch');
    const code = codes[1]!;
    const res = await lookup(typed(code));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data).toMatchObject({
      code,
      normalized: code,
      status: 'available',
      batch_id: batch.id,
      import_id: null,
      claimed_by: null,
      claimed_at: null,
      cancelled_at: null,
      cancel_reason: null,
      claim_count: 0,
      claims: [],
    });
    expect(res.data.list).toMatchObject({
      id: list.id,
      name: list.name,
      type: 'single_use',
      status: 'active',
      completed_reason: null,
      claim_count: 0,
    });
    expect(res.data.source).toMatchObject({ type: 'batch', id: batch.id, name: 'Lookup batch', status: 'active' });
    for (const form of [code.toLowerCase(), code, `${code.slice(0, 3)} ${code.slice(3)}`]) {
      const again = await lookup(form);
      expect(again.statusCode, form).toBe(200);
      expect(again.data.normalized).toBe(code);
    }
  });

  it('shows a claimed code with who claimed it and its claims', async () => {
    const { list, codes } = await singleList(1);
    const id = await customer();
    const made = await claim(codes[0]!, id);
    expect(made.statusCode).toBe(201);
    const res = await lookup(codes[0]!.toLowerCase());
    expect(res.data).toMatchObject({ status: 'claimed', claimed_by: id, claim_count: 1 });
    expect(Date.parse(res.data.claimed_at)).toBe(Date.parse(made.data.claim.claimed_at));
    expect(res.data.list).toMatchObject({ id: list.id, claim_count: 1 });
    expect(res.data.claims).toEqual([
      expect.objectContaining({
        id: made.data.claim.id,
        customer_id: id,
        code: codes[0],
        list_id: list.id,
        reversed: false,
      }),
    ]);
  });

  it('finds a third-party code by its import, showing the form that was uploaded', async () => {
    const { list, imp } = await thirdPartyList(['Partner-Code-01', 'PARTNERCODE02'], {}, 'Partner');
    const res = await lookup('partner code 01');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data).toMatchObject({
      code: 'Partner-Code-01',
      normalized: 'PARTNERCODE01',
      status: 'available',
      batch_id: null,
      import_id: imp.id,
    });
    expect(res.data.list).toMatchObject({ id: list.id, type: 'third_party' });
    expect(res.data.source).toMatchObject({ type: 'import', id: imp.id, name: 'Partner' });
  });

  it('finds a multi-use code, its live claim count and its latest claims', async () => {
    const list = await newList({ type: 'multi_use', code: 'Lookup-Multi', redemption_cap: 5 });
    const ids = [await customer(), await customer(), await customer()];
    const claims = [];
    for (const id of ids) claims.push((await claim('LOOKUPMULTI', id)).data.claim);
    await t.call('agent', { method: 'POST', url: `/v1/claims/${claims[0].id}/reversal`, payload: { reason: 'oops' } });
    const res = await lookup('lookup multi');
    expect(res.statusCode).toBe(200);
    expect(res.data).toMatchObject({
      code: 'Lookup-Multi',
      normalized: 'LOOKUPMULTI',
      status: 'available',
      batch_id: null,
      import_id: null,
      source: null,
      claim_count: 2,
    });
    expect(res.data.list).toMatchObject({
      id: list.id,
      type: 'multi_use',
      redemption_cap: 5,
      claim_count: 2,
      status: 'active',
    });
    expect(res.data.claims.map((c: any) => [c.id, c.reversed])).toEqual([
      [claims[2].id, false],
      [claims[1].id, false],
      [claims[0].id, true],
    ]);
  });

  it('shows the list status and why: pending, completed (ended), completed (cap_reached)', async () => {
    await newList({
      type: 'multi_use',
      code: 'Lookup-Pending',
      starts_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect((await lookup('lookup-pending')).data.list).toMatchObject({ status: 'pending', completed_reason: null });
    await newList({
      type: 'multi_use',
      code: 'Lookup-Ended',
      starts_at: '2020-01-01T00:00:00Z',
      ends_at: '2020-02-01T00:00:00Z',
    });
    expect((await lookup('lookup-ended')).data.list).toMatchObject({ status: 'completed', completed_reason: 'ended' });
    await newList({ type: 'multi_use', code: 'Lookup-Capped', redemption_cap: 1 });
    expect((await claim('lookup-capped', await customer())).statusCode).toBe(201);
    expect((await lookup('lookup-capped')).data.list).toMatchObject({
      status: 'completed',
      completed_reason: 'cap_reached',
      claim_count: 1,
    });
  });

  it('answers 404 code_not_found for an unknown code, 400 for a malformed one, 403 for clients', async () => {
    const res = await lookup('NO-SUCH-CODE-AT-ALL');
    expect(res.statusCode).toBe(404);
    expect(res.data.error.code).toBe('code_not_found');
    const long = await lookup('A'.repeat(129));
    expect(long.statusCode).toBe(400);
    expect(long.data.error.code).toBe('validation_failed');
    const client = await lookup('LOOKUPMULTI', 'client');
    expect(client.statusCode).toBe(403);
    expect(client.data.error.code).toBe('forbidden');
  });
});

describe('POST /v1/codes/{code}/cancel', () => {
  it('cancels an available code: audited, counted on the list, and refused to claims', async () => {
    const { list, codes } = await singleList(3);
    const code = codes[0]!;
    const before = await getList(list.id);
    expect(before).toMatchObject({ cancelled_count: 0, available_count: 3 });

    const res = await cancel(typed(code), 'customer lost it');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.data).toMatchObject({
      code,
      normalized: code,
      status: 'cancelled',
      cancel_reason: 'customer lost it',
      claimed_by: null,
    });
    expect(Date.now() - Date.parse(res.data.cancelled_at)).toBeLessThan(60_000);
    expect(await getList(list.id)).toMatchObject({
      cancelled_count: 1,
      available_count: 2,
      code_count: 3,
      claim_count: 0,
    });

    const shown = await lookup(code);
    expect(shown.data).toMatchObject({
      status: 'cancelled',
      cancelled_at: res.data.cancelled_at,
      cancel_reason: 'customer lost it',
    });

    const audit = await auditOf(code);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'code.cancel',
      entity_type: 'code',
      entity_id: code,
      actor: agentActor,
      before: { status: 'available' },
      after: { status: 'cancelled', cancel_reason: 'customer lost it' },
    });

    for (const route of ['/v1/claims', '/v1/claims/validate']) {
      const refused = await t.call('client', {
        method: 'POST',
        url: route,
        payload: { code: code.toLowerCase(), customer_id: await customer() },
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.data.error.code).toBe('code_cancelled');
    }
    const filtered = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}/codes?status=cancelled` });
    expect(filtered.data.items.map((c: any) => c.code)).toEqual([code]);
  });

  it('is idempotent: a second cancel answers 200 as before and records nothing', async () => {
    const { list, codes } = await singleList(1);
    const code = codes[0]!;
    const first = await cancel(code, 'first reason');
    expect(first.statusCode).toBe(200);
    const second = await cancel(code.toLowerCase(), 'second reason');
    expect(second.statusCode).toBe(200);
    expect(second.data).toMatchObject({
      status: 'cancelled',
      cancelled_at: first.data.cancelled_at,
      cancel_reason: 'first reason',
    });
    expect(second.data).toEqual(first.data);
    expect(await auditOf(code)).toHaveLength(1);
    expect(await getList(list.id)).toMatchObject({ cancelled_count: 1, available_count: 0 });
  });

  it('cancels a third-party code', async () => {
    const { list } = await thirdPartyList(['CANCEL-TP-1']);
    const res = await cancel('cancel tp 1');
    expect(res.statusCode).toBe(200);
    expect(res.data).toMatchObject({ normalized: 'CANCELTP1', status: 'cancelled' });
    expect((await getList(list.id)).cancelled_count).toBe(1);
    const refused = await claim('CANCELTP1', await customer());
    expect(refused.data.error.code).toBe('code_cancelled');
  });

  it('refuses a claimed code with 409 code_already_claimed, and allows it once the claim is reversed', async () => {
    const { list, codes } = await singleList(1);
    const code = codes[0]!;
    const made = await claim(code, await customer());
    expect(made.statusCode).toBe(201);
    const res = await cancel(code);
    expect(res.statusCode).toBe(409);
    expect(res.data.error.code).toBe('code_already_claimed');
    expect((await lookup(code)).data.status).toBe('claimed');
    expect(await auditOf(code)).toEqual([]);
    expect((await getList(list.id)).cancelled_count).toBe(0);

    expect(
      (
        await t.call('agent', {
          method: 'POST',
          url: `/v1/claims/${made.data.claim.id}/reversal`,
          payload: { reason: 'x' },
        })
      ).statusCode,
    ).toBe(200);
    const after = await cancel(code);
    expect(after.statusCode).toBe(200);
    expect(after.data.status).toBe('cancelled');
  });

  it('refuses a multi-use code with 409 code_not_cancellable', async () => {
    const list = await newList({ type: 'multi_use', code: 'No-Cancel-Multi' });
    const res = await cancel('no cancel multi');
    expect(res.statusCode).toBe(409);
    expect(res.data.error.code).toBe('code_not_cancellable');
    expect((await lookup('NOCANCELMULTI')).data.status).toBe('available');
    expect((await getList(list.id)).cancelled_count).toBe(0);
    expect((await claim('NOCANCELMULTI', await customer())).statusCode).toBe(201);
  });

  it('answers 404 for an unknown code, 400 for a bad body, and 403 for clients', async () => {
    const unknown = await cancel('NO-SUCH-CODE-TO-CANCEL');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.data.error.code).toBe('code_not_found');

    const { codes } = await singleList(1);
    const code = codes[0]!;
    for (const payload of [
      {},
      { reason: '' },
      { reason: 7 },
      { reason: 'x'.repeat(501) },
      { reason: 'ok', when: 'now' },
    ]) {
      const res = await t.call('agent', { method: 'POST', url: `/v1/codes/${code}/cancel`, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
    }
    const client = await cancel(code, 'not allowed', 'client');
    expect(client.statusCode).toBe(403);
    expect(client.data.error.code).toBe('forbidden');
    expect((await lookup(code)).data.status).toBe('available');
  });
});
