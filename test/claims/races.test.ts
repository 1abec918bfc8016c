// Claims under concurrency (docs/product.md): hundreds of real HTTP requests in parallel against the app
// on a socket, then exact counts in the responses and in the database. "Under any concurrency a
// cap is never exceeded, a single-use code is claimed once, a customer claims a multi-use code
// once, and points are credited once."
import type { AddressInfo } from 'node:net';
import type { PoolClient } from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../../src/auth/roles';
import { useTestApp } from '../support/context';
import { createCatalog, fixtures, generateBatch } from '../support/fixtures';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp();
const AMOUNT = 100;
const outcome = { points: { amount: AMOUNT, account: 'spendable', source: 'promo_code' } };
const { customers, newList } = fixtures(t, { list: { outcome } });

let base = '';

beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  await createCatalog(t, { accounts: { spendable: 'Spendable' }, sources: { promo_code: 'Promo code' } });
});
useTestWorker(t);

interface Answer {
  status: number;
  data: any;
}

async function api(
  role: UserRole,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${t.keys[role]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : undefined };
}

const claim = (code: string, customer_id: string, headers: Record<string, string> = {}) =>
  api('client', 'POST', '/v1/claims', { code, customer_id }, headers);
const reverse = (claimId: string, reason = 'wrong customer') =>
  api('agent', 'POST', `/v1/claims/${claimId}/reversal`, { reason });
const getList = async (id: string) => (await api('agent', 'GET', `/v1/lists/${id}`)).data;
const patchList = (id: string, body: Record<string, unknown>) => api('admin', 'PATCH', `/v1/lists/${id}`, body);
/**
 * API keys are remembered for a few seconds; a key the app must look up again waits for a
 * database connection behind every queued claim, which would let the race end before the
 * racing agent or admin request starts. Using the key just before a race avoids that.
 */
async function warm(role: UserRole) {
  expect((await api(role, 'GET', '/v1/lists?limit=1')).status).toBe(200);
}

/** How many answers of each kind: "201", or "<status> <error code>". */
function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status === 201 ? '201' : `${a.status} ${a.data?.error?.code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const won = (answers: Answer[]) => answers.filter((a) => a.status === 201);

/**
 * What the database holds for a list: claims, ledger entries from its claims, counters, failed
 * claim attempts by reason.
 */
async function stored(listId: string) {
  const {
    rows: [claims],
  } = await t.pool.query(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE reversed_at IS NULL)::int AS live,
            count(DISTINCT customer_id) FILTER (WHERE reversed_at IS NULL)::int AS live_customers
       FROM claims WHERE list_id = $1`,
    [listId],
  );
  const {
    rows: [ledger],
  } = await t.pool.query(
    `SELECT count(*) FILTER (WHERE p.amount > 0)::int AS credits, count(*) FILTER (WHERE p.amount < 0)::int AS debits,
            COALESCE(sum(p.amount), 0)::int AS sum
       FROM points_ledger p JOIN claims c ON c.id = p.claim_id WHERE c.list_id = $1`,
    [listId],
  );
  const {
    rows: [counters],
  } = await t.pool.query(
    `SELECT COALESCE(sum(claims), 0)::int AS claims, bool_and(claims >= 0) AS none_negative
       FROM list_counters WHERE list_id = $1`,
    [listId],
  );
  const { rows: attempts } = await t.pool.query<{ reason: string | null; n: number }>(
    `SELECT reason, count(*)::int AS n FROM attempts
      WHERE list_id = $1 AND kind = 'claim' AND reason IS NOT NULL GROUP BY reason`,
    [listId],
  );
  const failedAttempts = Object.fromEntries(attempts.map((a) => [a.reason, a.n]));
  return { claims, ledger, counters, failedAttempts };
}

async function balances(ids: string[]): Promise<Record<string, number>> {
  const profiles = await Promise.all(ids.map((id) => api('client', 'GET', `/v1/customers/${id}`)));
  return Object.fromEntries(
    profiles.map((p, i) => {
      expect(p.status).toBe(200);
      const spendable = (p.data.points as { account: string; balance: number }[]).find(
        (b) => b.account === 'spendable',
      );
      return [ids[i]!, spendable?.balance ?? 0];
    }),
  );
}

describe('a capped multi-use code', () => {
  it('gives exactly cap claims to 300 customers claiming at once', { timeout: 120_000 }, async () => {
    const list = await newList({ name: 'Cap 50', type: 'multi_use', code: 'RACE-CAP-50', redemption_cap: 50 });
    const ids = await customers(300, 'cap50');
    const answers = await Promise.all(ids.map((id) => claim('race-cap-50', id)));

    expect(tally(answers)).toEqual({ '201': 50, '409 list_cap_reached': 250 });
    const winners = won(answers).map((a) => a.data.claim.customer_id as string);
    expect(new Set(winners).size).toBe(50);
    for (const a of won(answers)) expect(a.data.claim).toMatchObject({ code: 'RACECAP50', list_id: list.id, outcome });

    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 50, live: 50, live_customers: 50 });
    expect(db.ledger).toEqual({ credits: 50, debits: 0, sum: 50 * AMOUNT });
    expect(db.counters).toEqual({ claims: 50, none_negative: true });
    expect(db.failedAttempts).toEqual({ list_cap_reached: 250 });
    const { rows } = await t.pool.query<{ customer_id: string }>(
      'SELECT customer_id FROM claims WHERE list_id = $1 ORDER BY customer_id',
      [list.id],
    );
    expect(rows.map((r) => r.customer_id)).toEqual([...winners].sort());

    expect(await getList(list.id)).toMatchObject({
      claim_count: 50,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
    const balance = await balances(ids);
    for (const id of ids) expect(balance[id], id).toBe(winners.includes(id) ? AMOUNT : 0);
  });
});

describe('a single-use code', () => {
  it('is claimed by exactly one of 40 customers claiming it at once', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'One code', type: 'single_use' });
    const [code] = (await generateBatch(t, list.id, 1)).codes;
    const ids = await customers(40, 'single');
    const answers = await Promise.all(ids.map((id) => claim(code!, id)));

    expect(tally(answers)).toEqual({ '201': 1, '409 code_already_claimed': 39 });
    const winner = won(answers)[0]!.data.claim.customer_id;
    const { rows } = await t.pool.query('SELECT claimed_by FROM codes WHERE code = $1', [code]);
    expect(rows).toEqual([{ claimed_by: winner }]);
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
    expect(db.failedAttempts).toEqual({ code_already_claimed: 39 });
    expect(await getList(list.id)).toMatchObject({ claim_count: 1, available_count: 0 });
  });

  it('is claimed once, and refused as already claimed (not cap reached), on a capped list', {
    timeout: 60_000,
  }, async () => {
    // Losers take a unit of the cap before they find the code taken, and must give it back.
    const list = await newList({ name: 'One code, capped', type: 'single_use', redemption_cap: 5 });
    const [code] = (await generateBatch(t, list.id, 1)).codes;
    const ids = await customers(40, 'single-capped');
    const answers = await Promise.all(ids.map((id) => claim(code!, id)));

    expect(tally(answers)).toEqual({ '201': 1, '409 code_already_claimed': 39 });
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
    expect(db.counters).toEqual({ claims: 1, none_negative: true });
    expect(await getList(list.id)).toMatchObject({ claim_count: 1, status: 'active' });
  });
});

describe('one customer claiming one multi-use code many times at once', () => {
  it('gets one claim and its points once (uncapped list)', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'Open', type: 'multi_use', code: 'RACE-OPEN' });
    const [id] = await customers(1, 'repeat');
    const answers = await Promise.all(Array.from({ length: 20 }, () => claim('RACEOPEN', id!)));

    expect(tally(answers)).toEqual({ '201': 1, '409 already_claimed_by_customer': 19 });
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
    expect(db.counters.claims).toBe(1);
    expect(await balances([id!])).toEqual({ [id!]: AMOUNT });
    expect((await getList(list.id)).claim_count).toBe(1);
  });

  it('gets one claim and gives back the units of the cap it did not use (capped list)', {
    timeout: 60_000,
  }, async () => {
    const list = await newList({
      name: 'Capped repeat',
      type: 'multi_use',
      code: 'RACE-REPEAT-CAP',
      redemption_cap: 3,
    });
    const [id, other] = await customers(2, 'repeat-capped');
    const answers = await Promise.all(Array.from({ length: 20 }, () => claim('RACEREPEATCAP', id!)));

    expect(tally(answers)).toEqual({ '201': 1, '409 already_claimed_by_customer': 19 });
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
    expect(db.counters).toEqual({ claims: 1, none_negative: true });
    expect(await balances([id!])).toEqual({ [id!]: AMOUNT });
    // The cap still has room for the others.
    expect((await claim('RACEREPEATCAP', other!)).status).toBe(201);
    expect(await getList(list.id)).toMatchObject({ claim_count: 2, status: 'active' });
  });

  it('gets one claim when each request carries its own Idempotency-Key', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'Keyed repeat', type: 'multi_use', code: 'RACE-KEYED' });
    const [id] = await customers(1, 'keyed');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claim('RACEKEYED', id!, { 'idempotency-key': `keyed-${i}` })),
    );

    expect(tally(answers)).toEqual({ '201': 1, '409 already_claimed_by_customer': 19 });
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
  });
});

describe('a capped single-use list', () => {
  it('lets exactly cap of 50 customers claim 50 different codes at once', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'Cap 5 of 50', type: 'single_use', redemption_cap: 5 });
    const { codes } = await generateBatch(t, list.id, 50);
    const ids = await customers(50, 'cap5');
    const answers = await Promise.all(ids.map((id, i) => claim(codes[i]!, id)));

    expect(tally(answers)).toEqual({ '201': 5, '409 list_cap_reached': 45 });
    const { rows } = await t.pool.query<{ code: string; claimed_by: string }>(
      'SELECT code, claimed_by FROM codes WHERE list_id = $1 AND claimed_by IS NOT NULL ORDER BY code',
      [list.id],
    );
    const expected = won(answers)
      .map((a) => ({ code: a.data.claim.code, claimed_by: a.data.claim.customer_id }))
      .sort((a, b) => (a.code < b.code ? -1 : 1));
    expect(rows).toEqual(expected);
    for (const { code, claimed_by } of rows) expect(codes.indexOf(code)).toBe(ids.indexOf(claimed_by));
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 5, live: 5, live_customers: 5 });
    expect(db.ledger).toEqual({ credits: 5, debits: 0, sum: 5 * AMOUNT });
    expect(db.counters).toEqual({ claims: 5, none_negative: true });
    expect(await getList(list.id)).toMatchObject({
      claim_count: 5,
      available_count: 45,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
  });
});

describe('a reversal racing claims', () => {
  it('gives the one freed use of a full list to exactly one new customer', { timeout: 60_000 }, async () => {
    const cap = 10;
    const list = await newList({ name: 'Full list', type: 'multi_use', code: 'RACE-FULL', redemption_cap: cap });
    const first = await customers(cap, 'full');
    const claimIds: string[] = [];
    for (const id of first) {
      const res = await claim('RACEFULL', id);
      expect(res.status).toBe(201);
      claimIds.push(res.data.claim.id);
    }
    expect(await getList(list.id)).toMatchObject({ claim_count: cap, status: 'completed' });

    const racers = await customers(100, 'full-racer');
    await warm('agent');
    const [reversal, ...raced] = await Promise.all([
      reverse(claimIds[3]!),
      ...racers.map((id) => claim('RACEFULL', id)),
    ]);
    expect(reversal!.status).toBe(200);
    expect(reversal!.data).toMatchObject({ id: claimIds[3], reversed: true });
    const racedWins = won(raced).length;
    expect(racedWins).toBeLessThanOrEqual(1);
    expect(tally(raced)['409 list_cap_reached']).toBe(100 - racedWins);

    // Whatever the interleaving, the freed use goes to exactly one newcomer.
    const late = await customers(20, 'full-late');
    const lateAnswers = await Promise.all(late.map((id) => claim('RACEFULL', id)));
    expect(racedWins + won(lateAnswers).length).toBe(1);
    expect(tally(lateAnswers)['409 list_cap_reached']).toBe(20 - won(lateAnswers).length);

    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: cap + 1, live: cap, live_customers: cap });
    expect(db.ledger).toEqual({ credits: cap + 1, debits: 1, sum: cap * AMOUNT });
    expect(db.counters).toEqual({ claims: cap, none_negative: true });
    expect(await getList(list.id)).toMatchObject({
      claim_count: cap,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
    expect(await balances([first[3]!])).toEqual({ [first[3]!]: 0 });
  });

  it.each([
    ['an uncapped', null, 'u'],
    ['a capped', 100, 'c'],
  ])(
    'never leaves two live claims on a single-use code whose claim is being reversed (%s list)',
    { timeout: 120_000 },
    async (_label, cap, tag) => {
      const rounds = 20;
      const list = await newList({ name: 'Reversed codes', type: 'single_use', redemption_cap: cap });
      const { codes } = await generateBatch(t, list.id, rounds);
      const holders = await customers(rounds, `holder-${tag}`);
      const bs = await customers(rounds, `taker-b-${tag}`);
      const cs = await customers(rounds, `taker-c-${tag}`);
      const held = await Promise.all(codes.map((code, i) => claim(code, holders[i]!)));
      expect(tally(held)).toEqual({ '201': rounds });

      await warm('agent');
      let takenInRace = 0;
      for (let i = 0; i < rounds; i++) {
        const code = codes[i]!;
        // Vary which request leaves first.
        const requests = [() => reverse(held[i]!.data.claim.id), () => claim(code, bs[i]!), () => claim(code, cs[i]!)];
        const order = [i % 3, (i + 1) % 3, (i + 2) % 3];
        const answers: Answer[] = [];
        await Promise.all(
          order.map(async (k) => {
            answers[k] = await requests[k]!();
          }),
        );
        const [reversal, b, c] = answers as [Answer, Answer, Answer];
        expect(reversal.status, `round ${i}: ${JSON.stringify(reversal.data)}`).toBe(200);
        const takers = [b, c];
        expect(won(takers).length, `round ${i}`).toBeLessThanOrEqual(1);
        for (const a of takers)
          if (a.status !== 201) expect(a.data.error.code, `round ${i}`).toBe('code_already_claimed');
        takenInRace += won(takers).length;

        const { rows: live } = await t.pool.query<{ customer_id: string }>(
          'SELECT customer_id FROM claims WHERE code = $1 AND reversed_at IS NULL',
          [code],
        );
        const {
          rows: [row],
        } = await t.pool.query<{ claimed_by: string | null }>('SELECT claimed_by FROM codes WHERE code = $1', [code]);
        const winner = won(takers)[0]?.data.claim.customer_id ?? null;
        expect(
          live.map((r) => r.customer_id),
          `round ${i}`,
        ).toEqual(winner ? [winner] : []);
        expect(row!.claimed_by, `round ${i}`).toBe(winner);
      }

      // Every code left free by its race can still be claimed, exactly once.
      const free = (
        await t.pool.query<{ code: string }>('SELECT code FROM codes WHERE list_id = $1 AND claimed_by IS NULL', [
          list.id,
        ])
      ).rows;
      expect(free).toHaveLength(rounds - takenInRace);
      const latecomers = await customers(free.length, `taker-d-${tag}`);
      const late = await Promise.all(free.map(({ code }, i) => claim(code, latecomers[i]!)));
      expect(tally(late)).toEqual(free.length ? { '201': free.length } : {});

      const db = await stored(list.id);
      expect(db.claims).toEqual({ total: 2 * rounds, live: rounds, live_customers: rounds });
      expect(db.ledger).toEqual({ credits: 2 * rounds, debits: rounds, sum: rounds * AMOUNT });
      expect(db.counters).toEqual({ claims: rounds, none_negative: true });
      expect(await getList(list.id)).toMatchObject({ claim_count: rounds, available_count: 0 });
      expect(Object.values(await balances(holders))).toEqual(holders.map(() => 0));
    },
  );
});

describe('Idempotency-Key under concurrency', () => {
  it('runs 20 identical keyed claims once and answers all of them alike', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'Idempotent', type: 'multi_use', code: 'RACE-IDEM' });
    const [id] = await customers(1, 'idem');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => claim('RACEIDEM', id!, { 'idempotency-key': 'same-key-1' })),
    );

    expect(tally(answers)).toEqual({ '201': 20 });
    expect(new Set(answers.map((a) => a.data.claim.id)).size).toBe(1);
    for (const a of answers) expect(a.data).toEqual(answers[0]!.data);
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
    expect(db.failedAttempts).toEqual({});
    expect(await balances([id!])).toEqual({ [id!]: AMOUNT });
    const attempts = await api('agent', 'GET', `/v1/customers/${id}/attempts`);
    expect(attempts.data.items.map((a: { kind: string; result: string }) => `${a.kind} ${a.result}`)).toEqual([
      'claim succeeded',
    ]);
  });

  it('runs one of two bodies sharing a key and refuses the other with idempotency_key_reused', {
    timeout: 60_000,
  }, async () => {
    const list = await newList({ name: 'Idempotent, two bodies', type: 'multi_use', code: 'RACE-IDEM-2' });
    const [x, y] = await customers(2, 'idem2');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claim('RACEIDEM2', i % 2 ? x! : y!, { 'idempotency-key': 'same-key-2' })),
    );

    expect(tally(answers)).toEqual({ '201': 10, '422 idempotency_key_reused': 10 });
    const customersWon = new Set(won(answers).map((a) => a.data.claim.customer_id));
    expect(customersWon.size).toBe(1);
    expect(new Set(won(answers).map((a) => a.data.claim.id)).size).toBe(1);
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 1, live: 1, live_customers: 1 });
    expect(db.ledger).toEqual({ credits: 1, debits: 0, sum: AMOUNT });
  });
});

describe('editing the cap while customers claim', () => {
  it('raises the cap from 10 to 20 and ends at exactly 20 claims', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'Raised cap', type: 'multi_use', code: 'RACE-RAISE', redemption_cap: 10 });
    const ids = await customers(60, 'raise');
    await warm('admin');
    const claims = ids.map((id) => () => claim('RACERAISE', id));
    const requests = [...claims.slice(0, 8), () => patchList(list.id, { redemption_cap: 20 }), ...claims.slice(8)];
    const answers = await Promise.all(requests.map((r) => r()));
    const [patch] = answers.splice(8, 1);

    expect(patch!.status, JSON.stringify(patch!.data)).toBe(200);
    expect(patch!.data.redemption_cap).toBe(20);
    const racedWins = won(answers).length;
    expect(racedWins).toBeGreaterThanOrEqual(10);
    expect(racedWins).toBeLessThanOrEqual(20);
    expect(tally(answers)['409 list_cap_reached'] ?? 0).toBe(60 - racedWins);

    const late = await customers(30, 'raise-late');
    const lateAnswers = await Promise.all(late.map((id) => claim('RACERAISE', id)));
    expect(tally(lateAnswers)).toEqual(
      racedWins === 20
        ? { '409 list_cap_reached': 30 }
        : { '201': 20 - racedWins, '409 list_cap_reached': 10 + racedWins },
    );

    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 20, live: 20, live_customers: 20 });
    expect(db.ledger).toEqual({ credits: 20, debits: 0, sum: 20 * AMOUNT });
    expect(db.counters).toEqual({ claims: 20, none_negative: true });
    expect(await getList(list.id)).toMatchObject({
      claim_count: 20,
      redemption_cap: 20,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
  });

  it('caps an uncapped list while customers claim and never passes the new cap', { timeout: 60_000 }, async () => {
    const cap = 100;
    const list = await newList({ name: 'Capped late', type: 'multi_use', code: 'RACE-LATE-CAP' });
    const ids = await customers(150, 'late-cap');
    await warm('admin');
    const claims = ids.map((id) => () => claim('RACELATECAP', id));
    const requests = [...claims.slice(0, 5), () => patchList(list.id, { redemption_cap: cap }), ...claims.slice(5)];
    const answers = await Promise.all(requests.map((r) => r()));
    const [patch] = answers.splice(5, 1);

    // The edit usually lands early; on a slow machine it may come after more than `cap` claims,
    // and is then refused exactly. Either way a cap ends up in force mid-traffic.
    let racedWins = won(answers).length;
    let inForce = cap;
    if (patch!.status === 409) {
      expect(patch!.data.error.code).toBe('redemption_cap_below_claim_count');
      expect(racedWins).toBe(ids.length);
      inForce = racedWins + 20;
      const again = await Promise.all([
        patchList(list.id, { redemption_cap: inForce }),
        ...(await customers(30, 'late-cap-2')).map((id) => claim('RACELATECAP', id)),
      ]);
      expect(again[0]!.status, JSON.stringify(again[0]!.data)).toBe(200);
      racedWins += won(again.slice(1)).length;
    } else {
      expect(patch!.status, JSON.stringify(patch!.data)).toBe(200);
    }
    expect(racedWins).toBeLessThanOrEqual(inForce);
    const late = await customers(60, 'late-cap-late');
    const lateAnswers = await Promise.all(late.map((id) => claim('RACELATECAP', id)));
    expect(racedWins + won(lateAnswers).length).toBe(inForce);

    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: inForce, live: inForce, live_customers: inForce });
    expect(db.ledger).toEqual({ credits: inForce, debits: 0, sum: inForce * AMOUNT });
    expect(db.counters).toEqual({ claims: inForce, none_negative: true });
    expect(await getList(list.id)).toMatchObject({
      claim_count: inForce,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
  });

  it('removes a cap that was never near while customers claim, and refuses none of them', {
    timeout: 60_000,
  }, async () => {
    const list = await newList({
      name: 'Uncapped late',
      type: 'multi_use',
      code: 'RACE-UNCAP',
      redemption_cap: 1000,
    });
    const ids = await customers(150, 'uncap');
    await warm('admin');
    const claims = ids.map((id) => () => claim('RACEUNCAP', id));
    const requests = [...claims.slice(0, 20), () => patchList(list.id, { redemption_cap: null }), ...claims.slice(20)];
    const answers = await Promise.all(requests.map((r) => r()));
    const [patch] = answers.splice(20, 1);

    expect(patch!.status, JSON.stringify(patch!.data)).toBe(200);
    expect(patch!.data.redemption_cap).toBeNull();
    expect(tally(answers)).toEqual({ '201': 150 });
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: 150, live: 150, live_customers: 150 });
    expect(db.ledger).toEqual({ credits: 150, debits: 0, sum: 150 * AMOUNT });
    expect(db.counters).toEqual({ claims: 150, none_negative: true });
    expect(await getList(list.id)).toMatchObject({ claim_count: 150, status: 'active', entry_cap: null });
  });
});

// The races above depend on timing. These hold claims at one point of their work with a lock
// taken by the test, change the list meanwhile, then let them go: the same interleaving on
// every run.
describe('claims held in flight while the list changes', () => {
  /** Claims of this list waiting on a lock right now. */
  async function waitingClaims(): Promise<number> {
    const { rows } = await t.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
          AND query LIKE '%claim_code(%'`,
    );
    return rows[0]!.n;
  }

  /** Other requests of this database (not claims) waiting on a lock right now. */
  async function waitingOthers(): Promise<number> {
    const { rows } = await t.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
          AND query NOT LIKE '%claim_code(%'`,
    );
    return rows[0]!.n;
  }

  /**
   * Runs `hold` in a transaction, fires `requests`, waits until all of them wait on its locks,
   * runs `meanwhile`, then rolls back.
   */
  async function stalled(
    hold: (tx: PoolClient) => Promise<unknown>,
    requests: (() => Promise<Answer>)[],
    meanwhile: () => Promise<void> = async () => {},
  ) {
    const tx = await t.pool.connect();
    try {
      await tx.query('BEGIN');
      await hold(tx);
      const pending = requests.map((r) => r());
      await eventually(
        async () => (await waitingClaims()) === requests.length,
        15_000,
        `${requests.length} claims to wait`,
      );
      await meanwhile();
      await tx.query('ROLLBACK');
      return await Promise.all(pending);
    } finally {
      tx.release();
    }
  }

  it('lets only the last unit of a cap go to one of many claims that all saw room', { timeout: 60_000 }, async () => {
    const cap = 20;
    const list = await newList({
      name: 'Last unit',
      type: 'multi_use',
      code: 'RACE-LAST-UNIT',
      redemption_cap: cap,
    });
    for (const id of await customers(cap - 1, 'last-unit')) expect((await claim('RACELASTUNIT', id)).status).toBe(201);
    const racers = await customers(8, 'last-unit-racer');
    // With every counter row locked, each claim passes the cap check (19 < 20) and waits to take its unit.
    const answers = await stalled(
      (tx) => tx.query('SELECT 1 FROM list_counters WHERE list_id = $1 FOR UPDATE', [list.id]),
      racers.map((id) => () => claim('RACELASTUNIT', id)),
    );

    expect(tally(answers)).toEqual({ '201': 1, '409 list_cap_reached': 7 });
    const db = await stored(list.id);
    expect(db.claims).toEqual({ total: cap, live: cap, live_customers: cap });
    expect(db.ledger).toEqual({ credits: cap, debits: 0, sum: cap * AMOUNT });
    expect(await getList(list.id)).toMatchObject({
      claim_count: cap,
      status: 'completed',
      completed_reason: 'cap_reached',
    });
  });

  it('holds a cap set on an uncapped list against claims that started before it', { timeout: 60_000 }, async () => {
    const list = await newList({ name: 'Capped in flight', type: 'multi_use', code: 'RACE-IN-FLIGHT' });
    for (const id of await customers(5, 'in-flight')) expect((await claim('RACEINFLIGHT', id)).status).toBe(201);
    const racers = await customers(3, 'in-flight-racer');
    await warm('admin');
    // An uncommitted live claim for each racer makes its claim wait after the checks (made
    // against the uncapped list), just before it writes its own claim. The cap edit then
    // either goes through (5 claims, cap 6) or waits for the racers, whichever the service
    // makes it do; the racers are let go once it has done one or the other.
    let patch: Answer | undefined;
    let patching: Promise<Answer> | undefined;
    const answers = await stalled(
      (tx) =>
        Promise.all(
          racers.map((id) =>
            tx.query(
              `INSERT INTO claims (code, list_id, customer_id, slot, outcome) VALUES ('RACEINFLIGHT', $1, $2, 0, '{}')`,
              [list.id, id],
            ),
          ),
        ),
      racers.map((id) => () => claim('RACEINFLIGHT', id)),
      async () => {
        patching = patchList(list.id, { redemption_cap: 6 }).then((r) => (patch = r));
        await eventually(
          async () => patch !== undefined || (await waitingOthers()) > 0,
          15_000,
          'the cap edit to finish or wait',
        );
      },
    );
    await patching;

    const db = await stored(list.id);
    if (patch!.status === 200) {
      // The cap came first: only one racer fits under it.
      expect(tally(answers)).toEqual({ '201': 1, '409 list_cap_reached': 2 });
      expect(db.claims).toEqual({ total: 6, live: 6, live_customers: 6 });
      expect(await getList(list.id)).toMatchObject({
        claim_count: 6,
        redemption_cap: 6,
        status: 'completed',
        completed_reason: 'cap_reached',
      });
    } else {
      // The racers came first: 8 claims, and a cap of 6 is below that.
      expect(patch!.status).toBe(409);
      expect(patch!.data.error.code).toBe('redemption_cap_below_claim_count');
      expect(tally(answers)).toEqual({ '201': 3 });
      expect(db.claims).toEqual({ total: 8, live: 8, live_customers: 8 });
      expect(await getList(list.id)).toMatchObject({ claim_count: 8, redemption_cap: null, status: 'active' });
    }
    expect(db.ledger).toEqual({ credits: db.claims.live, debits: 0, sum: db.claims.live * AMOUNT });
  });
});
