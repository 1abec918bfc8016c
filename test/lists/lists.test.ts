import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { createCatalog } from '../support/fixtures';

const t = useTestApp();
const points = { points: { amount: 100, account: 'spendable', source: 'promo_code' } };

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable' },
    sources: { promo_code: 'Promo code' },
    offers: { 'free-coffee': 'Free coffee' },
  });
});

const postList = (payload: Record<string, unknown>) => t.call('admin', { method: 'POST', url: '/v1/lists', payload });
const getList = (id: string) => t.call('agent', { method: 'GET', url: `/v1/lists/${id}` });
const patchList = (id: string, payload: Record<string, unknown>) =>
  t.call('admin', { method: 'PATCH', url: `/v1/lists/${id}`, payload });
const setClaims = (id: string, claims: number) =>
  t.pool.query('UPDATE list_counters SET claims = $2 WHERE list_id = $1 AND slot = 0', [id, claims]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('creating lists', () => {
  it('creates a single-use list with its derived fields', async () => {
    const res = await postList({ name: 'Welcome', type: 'single_use', outcome: points });
    expect(res.statusCode).toBe(201);
    expect(res.data).toMatchObject({
      name: 'Welcome',
      description: null,
      type: 'single_use',
      ends_at: null,
      redemption_cap: null,
      outcome: points,
      code: null,
      status: 'active',
      completed_reason: null,
      claim_count: 0,
      code_count: 0,
      available_count: 0,
      cancelled_count: 0,
      entry_cap: 1,
    });
    expect(res.data.id).toMatch(/^\d+$/);
    expect(Date.now() - Date.parse(res.data.starts_at)).toBeLessThan(60_000);
    expect(res.data.created_at).toMatch(/Z$/);
  });

  it('creates a multi-use list whose code is normalized and unique across the service', async () => {
    const res = await postList({
      name: 'Spring',
      type: 'multi_use',
      code: ' spring-sale ',
      redemption_cap: 50,
      outcome: { offers: ['free-coffee'], tags: ['spring'] },
    });
    expect(res.statusCode).toBe(201);
    expect(res.data).toMatchObject({ code: 'spring-sale', entry_cap: 50, code_count: 1, available_count: 1 });
    const stored = await t.pool.query('SELECT code, list_id FROM codes WHERE list_id = $1', [res.data.id]);
    expect(stored.rows).toEqual([{ code: 'SPRINGSALE', list_id: res.data.id }]);

    for (const clash of ['SpringSale', 'SPRING SALE', 'ｓｐｒｉｎｇｓａｌｅ']) {
      const again = await postList({ name: 'Clash', type: 'multi_use', code: clash, outcome: points });
      expect(again.statusCode, clash).toBe(409);
      expect(again.data.error.code).toBe('code_taken');
    }
    const uncapped = await postList({ name: 'Open', type: 'multi_use', code: 'OPEN2026', outcome: points });
    expect(uncapped.data.entry_cap).toBeNull();
    const third = await postList({ name: 'Partner', type: 'third_party', outcome: points });
    expect(third.data.entry_cap).toBe(1);
  });

  it('rolls back the list when its code is taken', async () => {
    await postList({ name: 'First holder', type: 'multi_use', code: 'HOLDER', outcome: points });
    await postList({ name: 'Second holder', type: 'multi_use', code: 'holder', outcome: points });
    const { rows } = await t.pool.query("SELECT count(*)::int AS n FROM lists WHERE name = 'Second holder'");
    expect(rows[0].n).toBe(0);
  });

  it.each([
    ['no outcome', { name: 'x', type: 'single_use' }, 'body.outcome'],
    ['an empty outcome', { name: 'x', type: 'single_use', outcome: {} }, 'body.outcome'],
    [
      'zero points',
      { name: 'x', type: 'single_use', outcome: { points: { ...points.points, amount: 0 } } },
      'body.outcome.points.amount',
    ],
    [
      'an unknown account',
      { name: 'x', type: 'single_use', outcome: { points: { ...points.points, account: 'nope' } } },
      'body.outcome.points.account',
    ],
    [
      'an unknown source',
      { name: 'x', type: 'single_use', outcome: { points: { ...points.points, source: 'nope' } } },
      'body.outcome.points.source',
    ],
    [
      'an unknown offer',
      { name: 'x', type: 'single_use', outcome: { offers: ['free-coffee', 'ghost'] } },
      'body.outcome.offers.1',
    ],
    [
      'eleven offers',
      { name: 'x', type: 'single_use', outcome: { offers: Array.from({ length: 11 }, (_, i) => `o${i}`) } },
      'body.outcome.offers',
    ],
    ['repeated tags', { name: 'x', type: 'single_use', outcome: { tags: ['a', 'a'] } }, 'body.outcome.tags'],
    ['an empty name', { name: '', type: 'single_use', outcome: points }, 'body.name'],
    ['a 201-char name', { name: 'n'.repeat(201), type: 'single_use', outcome: points }, 'body.name'],
    ['an unknown type', { name: 'x', type: 'reusable', outcome: points }, 'body.type'],
    ['a cap of 0', { name: 'x', type: 'single_use', redemption_cap: 0, outcome: points }, 'body.redemption_cap'],
    ['a cap as text', { name: 'x', type: 'single_use', redemption_cap: '5', outcome: points }, 'body.redemption_cap'],
    ['a bad timestamp', { name: 'x', type: 'single_use', starts_at: 'tomorrow', outcome: points }, 'body.starts_at'],
    [
      'an end before the start',
      {
        name: 'x',
        type: 'single_use',
        starts_at: '2030-01-02T00:00:00Z',
        ends_at: '2030-01-01T00:00:00Z',
        outcome: points,
      },
      'body.ends_at',
    ],
    ['a multi-use list without code', { name: 'x', type: 'multi_use', outcome: points }, 'body.code'],
    ['a code on a single-use list', { name: 'x', type: 'single_use', code: 'ABCDEF', outcome: points }, 'body.code'],
    ['a code of dashes', { name: 'x', type: 'multi_use', code: '- -', outcome: points }, 'body.code'],
    ['an unknown field', { name: 'x', type: 'single_use', outcome: points, colour: 'red' }, 'body.colour'],
  ])('refuses %s with validation_failed', async (_label, payload, path) => {
    const res = await postList(payload);
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
    expect(res.data.error.details.fields.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('writes an audit event for the creation', async () => {
    const list = (await postList({ name: 'Audited', type: 'single_use', outcome: points })).data;
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=list&entity_id=${list.id}` });
    expect(audit.data.items).toHaveLength(1);
    expect(audit.data.items[0]).toMatchObject({
      action: 'list.create',
      actor: expect.stringMatching(/^api_key:\d+$/),
      before: null,
    });
    expect(audit.data.items[0].after).toMatchObject({ name: 'Audited', outcome: points });
  });
});

describe('timestamps a client sends', () => {
  const refused = async (res: { statusCode: number; data: any }, path: string, message: RegExp) => {
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
    expect(res.data.error.details).toEqual({ fields: [{ path, message: expect.stringMatching(message) }] });
  };

  it.each([
    // PostgreSQL reads :60 as the next minute, which here is before the start: a 500 before.
    [
      'a leap second',
      { starts_at: '2017-01-01T00:00:30Z', ends_at: '2016-12-31T23:59:60Z' },
      'body.ends_at',
      /leap second/,
    ],
    ['a leap second and no start', { ends_at: '2016-12-31T23:59:60Z' }, 'body.ends_at', /leap second/],
    ['30 February', { starts_at: '2030-02-30T00:00:00Z' }, 'body.starts_at', /not a date/],
    ['29 February of a common year', { starts_at: '2029-02-29T00:00:00Z' }, 'body.starts_at', /not a date/],
    ['the year 0001', { starts_at: '0001-01-01T00:00:00Z' }, 'body.starts_at', /1970–9999/],
    ['the year 10000', { starts_at: '10000-01-01T00:00:00Z' }, 'body.starts_at', /ISO 8601/],
    ['1969', { starts_at: '1969-12-31T23:59:59Z' }, 'body.starts_at', /1970–9999/],
    ['1970 before UTC midnight', { starts_at: '1970-01-01T00:30:00+01:00' }, 'body.starts_at', /1970–9999/],
    ['hour 24', { starts_at: '2030-01-01T24:00:00Z' }, 'body.starts_at', /not a time of day/],
    ['no time zone', { starts_at: '2030-01-01T10:00:00' }, 'body.starts_at', /time zone/],
  ])('refuses %s with 400 naming the field', async (_label, times, path, message) => {
    await refused(await postList({ name: 'Timed', type: 'single_use', outcome: points, ...times }), path, message);
  });

  it('refuses an end before the start, and takes offsets, fractions and 29 February of a leap year', async () => {
    const backwards = await postList({
      name: 'Backwards',
      type: 'single_use',
      outcome: points,
      starts_at: '2030-01-02T00:00:00Z',
      ends_at: '2030-01-01T23:59:59+00:00',
    });
    await refused(backwards, 'body.ends_at', /after starts_at/);
    // The same instant written in two zones is not "after".
    const same = await postList({
      name: 'Same',
      type: 'single_use',
      outcome: points,
      starts_at: '2030-01-02T00:00:00Z',
      ends_at: '2030-01-02T01:00:00+01:00',
    });
    await refused(same, 'body.ends_at', /after starts_at/);

    const res = await postList({
      name: 'Zoned',
      type: 'single_use',
      outcome: points,
      starts_at: '2028-02-29T12:00:00.123456+02:00',
      ends_at: '9999-12-31T23:59:59Z',
    });
    expect(res.statusCode).toBe(201);
    expect(res.data).toMatchObject({ starts_at: '2028-02-29T10:00:00.123Z', ends_at: '9999-12-31T23:59:59.000Z' });
  });

  it('refuses a leap second, a non-date or an end before the start when editing', async () => {
    const list = (
      await postList({ name: 'Edited', type: 'single_use', outcome: points, starts_at: '2017-01-01T00:00:30Z' })
    ).data;
    await refused(await patchList(list.id, { ends_at: '2016-12-31T23:59:60Z' }), 'body.ends_at', /leap second/);
    await refused(await patchList(list.id, { ends_at: '2030-04-31T00:00:00Z' }), 'body.ends_at', /not a date/);
    await refused(await patchList(list.id, { ends_at: '2017-01-01T00:00:30Z' }), 'body.ends_at', /after starts_at/);
    expect((await getList(list.id)).data.ends_at).toBeNull();
    // An edit without ends_at leaves it as it is.
    expect((await patchList(list.id, { ends_at: '2040-01-01T00:00:00Z' })).statusCode).toBe(200);
    expect((await patchList(list.id, { name: 'Renamed' })).data).toMatchObject({
      name: 'Renamed',
      ends_at: '2040-01-01T00:00:00.000Z',
    });
  });
});

describe('reading and editing a list', () => {
  it('answers 404 list_not_found and 400 for a malformed id', async () => {
    expect((await getList('999999')).data.error.code).toBe('list_not_found');
    expect((await getList('abc')).statusCode).toBe(400);
  });

  it('edits name, description, end and cap, and audits before and after', async () => {
    const list = (await postList({ name: 'Before', type: 'single_use', outcome: points })).data;
    const res = await patchList(list.id, {
      name: 'After',
      description: 'Now described',
      ends_at: '2099-01-01T00:00:00Z',
      redemption_cap: 10,
    });
    expect(res.statusCode).toBe(200);
    expect(res.data).toMatchObject({
      name: 'After',
      description: 'Now described',
      ends_at: '2099-01-01T00:00:00.000Z',
      redemption_cap: 10,
    });
    const cleared = await patchList(list.id, { ends_at: null, redemption_cap: null, description: null });
    expect(cleared.data).toMatchObject({ name: 'After', description: null, ends_at: null, redemption_cap: null });
    const audit = await t.call('admin', { method: 'GET', url: `/v1/audit?entity_type=list&entity_id=${list.id}` });
    expect(audit.data.items.map((e: { action: string }) => e.action)).toEqual([
      'list.update',
      'list.update',
      'list.create',
    ]);
    expect(audit.data.items[1].before.name).toBe('Before');
    expect(audit.data.items[1].after.name).toBe('After');
  });

  it('refuses to change the outcome, type, start or code with field_not_editable', async () => {
    const list = (await postList({ name: 'Fixed', type: 'multi_use', code: 'FIXED1', outcome: points })).data;
    for (const payload of [
      { outcome: { tags: ['x'] } },
      { type: 'single_use' },
      { starts_at: '2020-01-01T00:00:00Z' },
      { code: 'OTHER' },
      { name: 'ok', outcome: points },
    ]) {
      const res = await patchList(list.id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.data.error.code).toBe('field_not_editable');
    }
    expect((await getList(list.id)).data.name).toBe('Fixed');
    const unknown = await patchList(list.id, { colour: 'red' });
    expect(unknown.data.error.code).toBe('validation_failed');
    expect((await patchList(list.id, {})).statusCode).toBe(400);
    expect((await patchList('999999', { name: 'x' })).statusCode).toBe(404);
  });

  it('keeps the cap at or above the claim count', async () => {
    const list = (await postList({ name: 'Capped', type: 'single_use', redemption_cap: 20, outcome: points })).data;
    await setClaims(list.id, 7);
    const below = await patchList(list.id, { redemption_cap: 6 });
    expect(below.statusCode).toBe(409);
    expect(below.data.error.code).toBe('redemption_cap_below_claim_count');
    expect((await patchList(list.id, { redemption_cap: 7 })).statusCode).toBe(200);
    expect((await patchList(list.id, { ends_at: '2000-01-01T00:00:00Z' })).statusCode).toBe(400);
  });
});

describe('status derived as time passes', () => {
  it('moves pending → active → completed (ended) with the clock', async () => {
    const start = new Date(Date.now() + 1200);
    const list = (
      await postList({
        name: 'Timed',
        type: 'single_use',
        starts_at: start.toISOString(),
        ends_at: new Date(start.getTime() + 1200).toISOString(),
        outcome: points,
      })
    ).data;
    expect(list.status).toBe('pending');
    await sleep(Math.max(0, start.getTime() - Date.now()) + 150);
    expect((await getList(list.id)).data).toMatchObject({ status: 'active', completed_reason: null });
    await sleep(1300);
    expect((await getList(list.id)).data).toMatchObject({ status: 'completed', completed_reason: 'ended' });
    // Extending the end reopens it.
    const reopened = await patchList(list.id, { ends_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(reopened.data.status).toBe('active');
  });

  it('completes with cap_reached when claims reach the cap, and reopens when the cap is raised', async () => {
    const list = (await postList({ name: 'Cap', type: 'multi_use', code: 'CAPME', redemption_cap: 3, outcome: points }))
      .data;
    await setClaims(list.id, 3);
    expect((await getList(list.id)).data).toMatchObject({
      status: 'completed',
      completed_reason: 'cap_reached',
      claim_count: 3,
    });
    expect((await patchList(list.id, { redemption_cap: 4 })).data).toMatchObject({
      status: 'active',
      completed_reason: null,
    });
  });
});
