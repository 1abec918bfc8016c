// Claims in batches (src/claims/batcher.ts, claim_codes in src/claims/claims.functions.sql): a batch answers
// each element exactly as if it had run alone, one after the other; batches form under load
// without changing any count; and a batch held up by a lock gives way, so that the claims
// queued behind it go on while the held one waits on its own.
import { beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ClaimBatcher, rolledBack } from '../../src/claims/batcher';
import { lockoutRules } from '../../src/claims/claims.service';
import { runClaims, type ClaimResult, type LockoutRules } from '../../src/claims/claims.sql';
import { useTestApp } from '../support/context';
import { createCatalog, createList, fixtures } from '../support/fixtures';
import { useTestWorker } from '../support/worker';

const t = useTestApp();
const outcome = { points: { amount: 10, account: 'spendable', source: 'promo_code' }, tags: ['batch'] };
const { customers, singleList } = fixtures(t, { list: { outcome } });

beforeAll(async () => {
  await createCatalog(t, { accounts: { spendable: 'Spendable' }, sources: { promo_code: 'Promo code' } });
});
useTestWorker(t);

const rules = (): LockoutRules => lockoutRules(t.app.config);
const reasons = (results: ClaimResult[]) => results.map((r) => r.error ?? (r.claim ? 'claimed' : 'valid'));

describe('one batch', () => {
  it('answers every element as if the elements had run one after the other', async () => {
    const {
      codes: [first, second],
    } = await singleList(2);
    const multi = await createList(t, { name: 'Batch multi', type: 'multi_use', code: 'BATCH-MULTI', outcome });
    const [a, b, c] = await customers(3);
    const results = await runClaims(
      t.pool,
      'claim',
      [
        { code: first!, customerId: a! },
        { code: first!, customerId: b! },
        { code: 'BATCHMULTI', customerId: c! },
        { code: 'BATCHMULTI', customerId: c! },
        { code: 'NOSUCHCODE', customerId: a! },
        { code: second!, customerId: 'not-registered' },
        { code: second!, customerId: b! },
      ],
      rules(),
      0,
    );

    expect(reasons(results)).toEqual([
      'claimed',
      'code_already_claimed',
      'claimed',
      'already_claimed_by_customer',
      'code_not_found',
      'customer_not_found',
      'claimed',
    ]);
    expect(results[0]!.claim).toMatchObject({ code: first, customer_id: a });
    const {
      rows: [counts],
    } = await t.pool.query(
      `SELECT (SELECT count(*)::int FROM claims WHERE customer_id = ANY($1)) AS claims,
              (SELECT count(*)::int FROM points_ledger WHERE customer_id = ANY($1)) AS ledger,
              (SELECT count(*)::int FROM attempts
                WHERE customer_id = ANY($1) OR customer_id = 'not-registered') AS failed,
              (SELECT sum(claims)::int FROM list_counters WHERE list_id = $2) AS multi_count`,
      [[a, b, c], multi.id],
    );
    expect(counts).toEqual({ claims: 3, ledger: 3, failed: 4, multi_count: 1 });
  });

  it('counts unknown codes towards a lockout element by element', async () => {
    const [customer] = await customers(1);
    const results = await runClaims(
      t.pool,
      'validate',
      ['NOPE1', 'NOPE2', 'NOPE3', 'NOPE4'].map((code) => ({ code, customerId: customer! })),
      {
        ...rules(),
        threshold: 2,
      },
      0,
    );
    expect(reasons(results)).toEqual([
      'code_not_found',
      'code_not_found',
      'customer_locked_out',
      'customer_locked_out',
    ]);
  });
  it('counts a claim limit element by element', async () => {
    const { codes } = await singleList(3);
    const [customer] = await customers(1);
    const limits = (payload: Record<string, unknown>) =>
      t.call('admin', { method: 'PUT', url: '/v1/settings/claim-limits', payload });
    expect((await limits({ per_week: 2 })).statusCode).toBe(200);
    try {
      const results = await runClaims(
        t.pool,
        'claim',
        codes.map((code) => ({ code, customerId: customer! })),
        rules(),
        0,
      );
      expect(reasons(results)).toEqual(['claimed', 'claimed', 'customer_limit_reached']);
    } finally {
      expect((await limits({})).statusCode).toBe(200);
    }
  });
});

describe('batches under load', () => {
  it('form when requests queue up, and every count stays exact', { timeout: 60_000 }, async () => {
    const { list, codes } = await singleList(200);
    const capped = await createList(t, {
      name: 'Batch cap',
      type: 'multi_use',
      code: 'BATCH-CAP-30',
      redemption_cap: 30,
      outcome,
    });
    const people = await customers(200);
    const before = { ...t.app.claimBatcher.stats };

    const claim = (code: string, customer_id: string) =>
      t.call('client', { method: 'POST', url: '/v1/claims', payload: { code, customer_id } });
    const answers = await Promise.all([
      ...codes.map((code, i) => claim(code, people[i]!)),
      // every code twice: the second claim of each must lose
      ...codes.map((code, i) => claim(code, people[(i + 1) % people.length]!)),
      ...people.slice(0, 100).map((id) => claim('BATCH-CAP-30', id)),
    ]);

    const statuses = (from: number, to: number) => {
      const counts: Record<string, number> = {};
      for (const a of answers.slice(from, to)) counts[a.statusCode] = (counts[a.statusCode] ?? 0) + 1;
      return counts;
    };
    const first = answers.slice(0, 400);
    expect(first.filter((a) => a.statusCode === 201)).toHaveLength(200);
    expect(first.filter((a) => a.data?.error?.code === 'code_already_claimed')).toHaveLength(200);
    expect(statuses(400, 500)).toEqual({ 201: 30, 409: 70 });

    const stats = t.app.claimBatcher.stats;
    expect(stats.elements - before.elements).toBe(500);
    // Fewer batches than requests: several claims went to the database together.
    expect(stats.batches - before.batches).toBeLessThan(500);

    const {
      rows: [db],
    } = await t.pool.query(
      `SELECT (SELECT count(*)::int FROM claims WHERE list_id = $1) AS single,
              (SELECT count(DISTINCT code)::int FROM claims WHERE list_id = $1) AS single_codes,
              (SELECT count(*)::int FROM codes WHERE list_id = $1 AND claimed_by IS NOT NULL) AS claimed_codes,
              (SELECT count(*)::int FROM claims WHERE list_id = $2) AS capped,
              (SELECT sum(claims)::int FROM list_counters WHERE list_id = $1) AS single_count,
              (SELECT sum(claims)::int FROM list_counters WHERE list_id = $2) AS capped_count`,
      [list.id, capped.id],
    );
    expect(db).toEqual({
      single: 200,
      single_codes: 200,
      claimed_codes: 200,
      capped: 30,
      single_count: 200,
      capped_count: 30,
    });
    const {
      rows: [outcomes],
    } = await t.pool.query(
      `SELECT (SELECT count(*)::int FROM points_ledger WHERE customer_id = ANY($1)) AS ledger,
              (SELECT count(*)::int FROM customer_tags WHERE customer_id = ANY($1) AND tag = 'batch') AS tagged`,
      [people],
    );
    // 230 claims; a customer who won twice (a single-use code and the capped code) is tagged once.
    const {
      rows: [winners],
    } = await t.pool.query('SELECT count(DISTINCT customer_id)::int AS n FROM claims WHERE customer_id = ANY($1)', [
      people,
    ]);
    expect(outcomes).toEqual({ ledger: 230, tagged: winners.n });
  });
});

describe('a batch held up by a lock', () => {
  it('gives way: the claims queued behind it go on, and the held claim waits on its own', {
    timeout: 30_000,
  }, async () => {
    const {
      codes: [held, second, third],
    } = await singleList(3);
    const [a, b, c] = await customers(3);
    // One lane, so that the queued claims could only ever go after the held one's batch.
    const batcher = new ClaimBatcher(t.pool, rules(), { lanes: 1, maxSize: 32 });
    const holder = await t.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM codes WHERE code = $1 FOR UPDATE', [held]);

      let heldSettled = false;
      const heldClaim = batcher.run('claim', held!, a!).finally(() => (heldSettled = true));
      const others = await Promise.all([batcher.run('claim', second!, b!), batcher.run('claim', third!, c!)]);

      expect(reasons(others)).toEqual(['claimed', 'claimed']);
      expect(heldSettled).toBe(false);
      expect(batcher.stats.fallbacks).toBeGreaterThanOrEqual(1);

      await holder.query('ROLLBACK');
      expect(reasons([await heldClaim])).toEqual(['claimed']);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM claims WHERE code = ANY($1)', [
      [held, second, third],
    ]);
    expect(rows[0].n).toBe(3);
  });
});

describe('a batch that fails', () => {
  it('is run again one element at a time: the failing element fails alone, the others are claimed once', {
    timeout: 30_000,
  }, async () => {
    const {
      codes: [opener, ...good],
    } = await singleList(4);
    // A list whose stored outcome cannot be issued (the API would never store it): claiming
    // its code raises an error inside the claim function.
    const broken = await createList(t, { name: 'Broken', type: 'multi_use', code: 'BATCH-BROKEN', outcome });
    await t.pool.query(`UPDATE lists SET outcome = jsonb_set(outcome, '{points,amount}', '"ten"') WHERE id = $1`, [
      broken.id,
    ]);
    const [a, b, c, d] = await customers(4);
    const batcher = new ClaimBatcher(t.pool, rules(), { lanes: 1, maxSize: 32 });

    // The first claim takes the only lane; the next three queue and go as one batch.
    const first = batcher.run('claim', opener!, a!);
    const rest = [
      batcher.run('claim', 'BATCHBROKEN', b!),
      batcher.run('claim', good[0]!, c!),
      batcher.run('claim', good[1]!, d!),
    ];
    const settled = await Promise.allSettled([first, ...rest]);

    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(reasons(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])))).toEqual([
      'claimed',
      'claimed',
      'claimed',
    ]);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: '22P02' });
    expect(batcher.stats).toEqual({ batches: 2, elements: 4, fallbacks: 1 });
    const { rows } = await t.pool.query(
      `SELECT (SELECT count(*)::int FROM claims WHERE code = ANY($1)) AS claims,
              (SELECT count(*)::int FROM claims WHERE list_id = $2) AS broken,
              (SELECT count(*)::int FROM points_ledger WHERE customer_id = ANY($3)) AS ledger`,
      [[opener, ...good], broken.id, [a, b, c, d]],
    );
    expect(rows[0]).toEqual({ claims: 3, broken: 0, ledger: 3 });
  });

  it('is run again only when the database rolled it back, never after a lost connection', async () => {
    const statementError = await t.pool.query('SELECT 1 / 0').catch((error: unknown) => error);
    expect(statementError).toBeInstanceOf(pg.DatabaseError);
    expect(rolledBack(statementError)).toBe(true);

    // A connection ended by the server (57P01) while a statement runs: the outcome is unknown.
    const victim = new pg.Client({ connectionString: t.databaseUrl });
    await victim.connect();
    victim.on('error', () => {});
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const running = victim.query('SELECT pg_sleep(30)').catch((error: unknown) => error);
    await t.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const lost = await running;
    expect(lost).toBeInstanceOf(Error);
    expect(rolledBack(lost)).toBe(false);
    await victim.end().catch(() => {});

    // A socket that went away carries a Node error code, not a SQLSTATE.
    const refused = await new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2000 })
      .connect()
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(rolledBack(refused)).toBe(false);
  });
});

describe('turns', () => {
  it('lets a validation waiting behind a flood of claims go with the next free lane', async () => {
    const { codes } = await singleList(64);
    const people = await customers(64);
    const batcher = new ClaimBatcher(t.pool, rules(), { lanes: 1, maxSize: 8 });
    const done: string[] = [];
    const claims = codes.map((code, i) =>
      batcher.run('claim', code, people[i]!).then((result) => done.push(reasons([result])[0]!)),
    );
    const validation = batcher
      .run('validate', codes[0]!, people[1]!)
      .then((result) => done.push(`validate: ${reasons([result])[0]}`));
    await Promise.all([...claims, validation]);

    // The first claim went alone; the validation took the next turn, ahead of 63 queued claims.
    expect(done.slice(0, 2)).toEqual(['claimed', 'validate: code_already_claimed']);
    expect(done.filter((d) => d === 'claimed')).toHaveLength(64);
    expect(batcher.stats).toEqual({ batches: 1 + 1 + 8, elements: 65, fallbacks: 0 });
  });
});
