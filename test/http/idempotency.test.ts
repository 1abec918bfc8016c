// Idempotency-Key on every write under /v1 (docs/product.md, "Retrying a write"): many
// concurrent duplicates of each kind of write have exactly one effect, all of them get the
// first response, and the key cannot be reused for another request.
import { beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { InjectOptions } from 'fastify';
import { useTestApp } from '../support/context';
import { createCatalog, createList, generateBatch, registerCustomer } from '../support/fixtures';
import { useTestWorker } from '../support/worker';
import type { UserRole } from '../../src/auth/roles';

const WAIT_MS = 3000;
const t = useTestApp({ IDEMPOTENCY_WAIT_MS: String(WAIT_MS) });
useTestWorker(t);

beforeAll(async () => {
  await createCatalog(t, {
    accounts: { spendable: 'Spendable' },
    sources: { promo: 'Promo' },
    offers: { coffee: 'Free coffee' },
  });
});

let seq = 0;
const newKey = () => `dup-${Date.now()}-${++seq}`;
const count = async (sql: string, params: unknown[] = []) => (await t.pool.query(sql, params)).rows[0].n as number;
const audits = (action: string, entityId: string) =>
  count('SELECT count(*)::int AS n FROM audit_log WHERE action = $1 AND entity_id = $2', [action, entityId]);

/**
 * Fires `n` copies of one request with one key at once. Every copy gets the same status and
 * body; one of them did the work and the others say they were replayed.
 */
async function duplicates(n: number, role: UserRole, options: InjectOptions, key = newKey()) {
  const sent = { ...options, headers: { ...options.headers, 'idempotency-key': key } };
  const responses = await Promise.all(Array.from({ length: n }, () => t.call(role, sent)));
  const first = responses.find((r) => r.headers['idempotent-replayed'] === undefined);
  expect(first, 'one copy was not replayed').toBeDefined();
  expect(responses.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
  for (const r of responses) {
    expect(r.statusCode, r.body).toBe(first!.statusCode);
    expect(r.data).toEqual(first!.data);
  }
  return { first: first!, key };
}

describe('concurrent duplicates of each write have one effect', () => {
  it('POST /v1/lists: one list, and the retries answer 201, not code_taken', async () => {
    const payload = { name: `dup list ${++seq}`, type: 'multi_use', code: `DUPLIST${seq}`, outcome: { tags: ['dup'] } };
    const { first } = await duplicates(30, 'admin', { method: 'POST', url: '/v1/lists', payload });
    expect(first.statusCode, first.body).toBe(201);
    expect(await count('SELECT count(*)::int AS n FROM lists WHERE name = $1', [payload.name])).toBe(1);
    expect(await audits('list.create', first.data.id)).toBe(1);
  });

  it('POST /v1/lists/{id}/batches: one batch of the requested codes', async () => {
    const list = await createList(t, { name: `dup batch ${++seq}`, type: 'single_use', outcome: { tags: ['dup'] } });
    const { first } = await duplicates(30, 'admin', {
      method: 'POST',
      url: `/v1/lists/${list.id}/batches`,
      payload: { count: 50 },
    });
    expect(first.statusCode, first.body).toBe(202);
    expect(await count('SELECT count(*)::int AS n FROM batches WHERE list_id = $1', [list.id])).toBe(1);
    await expect
      .poll(async () => (await t.call('agent', { method: 'GET', url: `/v1/batches/${first.data.id}` })).data.status, {
        timeout: 30_000,
      })
      .toBe('active');
    expect(await count('SELECT count(*)::int AS n FROM codes WHERE list_id = $1', [list.id])).toBe(50);
  });

  it('POST /v1/lists/{id}/imports: one import, bound to the bytes of the upload', async () => {
    const list = await createList(t, { name: `dup import ${++seq}`, type: 'third_party', outcome: { tags: ['dup'] } });
    const file = Array.from({ length: 500 }, (_, i) => `DUPIMP${seq}X${i}`).join('\n');
    const upload = {
      method: 'POST' as const,
      url: `/v1/lists/${list.id}/imports?name=dup`,
      payload: file,
      headers: { 'content-type': 'text/plain' },
    };
    const { first, key } = await duplicates(10, 'admin', upload);
    expect(first.statusCode, first.body).toBe(202);
    expect(await count('SELECT count(*)::int AS n FROM imports WHERE list_id = $1', [list.id])).toBe(1);
    expect(
      await count(
        'SELECT count(*)::int AS n FROM import_lines l JOIN imports i ON i.id = l.import_id WHERE i.list_id = $1',
        [list.id],
      ),
    ).toBeLessThanOrEqual(500);

    // Another file under the same key is refused, and so is the same file sent as multipart
    // with other bytes around it only if its bytes differ: the key binds what was read.
    const other = await t.call('admin', {
      ...upload,
      payload: `${file}\nONEMORE${seq}`,
      headers: { ...upload.headers, 'idempotency-key': key },
    });
    expect(other.statusCode, other.body).toBe(422);
    expect(other.data.error.code).toBe('idempotency_key_reused');
    expect(await count('SELECT count(*)::int AS n FROM imports WHERE list_id = $1', [list.id])).toBe(1);
    await expect
      .poll(async () => (await t.call('agent', { method: 'GET', url: `/v1/imports/${first.data.id}` })).data.status, {
        timeout: 30_000,
      })
      .toBe('active');
    expect(await count('SELECT count(*)::int AS n FROM codes WHERE list_id = $1', [list.id])).toBe(500);
  });

  it('POST /v1/api-keys and DELETE /v1/api-keys/{id}: one key, its secret replayed; one revocation', async () => {
    const name = `dup key ${++seq}`;
    const { first } = await duplicates(30, 'admin', {
      method: 'POST',
      url: '/v1/api-keys',
      payload: { name, role: 'client' },
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(await count('SELECT count(*)::int AS n FROM api_keys WHERE name = $1', [name])).toBe(1);
    const revoked = await duplicates(20, 'admin', { method: 'DELETE', url: `/v1/api-keys/${first.data.id}` });
    expect(revoked.first.statusCode, revoked.first.body).toBe(200);
    expect(await audits('api_key.revoke', first.data.id)).toBe(1);
  });

  it('POST and PATCH /v1/operators: one operator, one update', async () => {
    const email = `dup${++seq}@example.com`;
    const { first } = await duplicates(20, 'admin', {
      method: 'POST',
      url: '/v1/operators',
      payload: { email, role: 'agent' },
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(await count('SELECT count(*)::int AS n FROM operators WHERE email = $1', [email])).toBe(1);
    const reset = await duplicates(20, 'admin', {
      method: 'PATCH',
      url: `/v1/operators/${first.data.id}`,
      payload: { reset_password: true },
    });
    expect(reset.first.statusCode, reset.first.body).toBe(200);
    expect(await audits('operator.reset_password', first.data.id)).toBe(1);
  });

  it('the catalog: one point account, one offer, one offer update', async () => {
    const key = `dupacct${++seq}`;
    const account = await duplicates(20, 'admin', {
      method: 'POST',
      url: '/v1/point-accounts',
      payload: { key, name: 'Dup' },
    });
    expect(account.first.statusCode, account.first.body).toBe(201);
    expect(await count('SELECT count(*)::int AS n FROM point_accounts WHERE key = $1', [key])).toBe(1);
    const id = `dupoffer${seq}`;
    const offer = await duplicates(20, 'admin', {
      method: 'POST',
      url: '/v1/offers',
      payload: { id, name: 'Dup offer' },
    });
    expect(offer.first.statusCode, offer.first.body).toBe(201);
    const renamed = await duplicates(20, 'admin', {
      method: 'PATCH',
      url: `/v1/offers/${id}`,
      payload: { name: 'Renamed' },
    });
    expect(renamed.first.statusCode, renamed.first.body).toBe(200);
    expect(await audits('offer.create', id)).toBe(1);
    expect(await audits('offer.update', id)).toBe(1);
  });

  it('PUT /v1/customers/{id}, block, unblock and lockout clear: one change each', async () => {
    const id = `dup-customer-${++seq}`;
    const created = await duplicates(30, 'agent', {
      method: 'PUT',
      url: `/v1/customers/${id}`,
      payload: { name: 'Dup' },
    });
    expect(created.first.statusCode, created.first.body).toBe(201);
    expect(await audits('customer.create', id)).toBe(1);
    expect(await audits('customer.update', id)).toBe(0);
    for (const [path, action, payload] of [
      ['block', 'customer.block', { reason: 'dup' }],
      ['unblock', 'customer.unblock', {}],
      ['lockout/clear', 'customer.lockout_clear', {}],
    ] as const) {
      const { first } = await duplicates(20, 'agent', { method: 'POST', url: `/v1/customers/${id}/${path}`, payload });
      expect(first.statusCode, first.body).toBe(200);
      expect(await audits(action, id), action).toBeLessThanOrEqual(1);
    }
    expect(await audits('customer.block', id)).toBe(1);
    expect(await audits('customer.unblock', id)).toBe(1);
  });

  it('PUT /v1/settings/claim-limits: one change', async () => {
    const before = await count("SELECT count(*)::int AS n FROM audit_log WHERE action = 'settings.claim_limits'");
    const { first } = await duplicates(20, 'admin', {
      method: 'PUT',
      url: '/v1/settings/claim-limits',
      payload: { per_year: 900 + ++seq },
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(await count("SELECT count(*)::int AS n FROM audit_log WHERE action = 'settings.claim_limits'")).toBe(
      before + 1,
    );
    await t.call('admin', { method: 'PUT', url: '/v1/settings/claim-limits', payload: { per_year: null } });
  });

  it('PATCH /v1/lists/{id}: one update', async () => {
    const list = await createList(t, { name: `dup patch ${++seq}`, type: 'single_use', outcome: { tags: ['dup'] } });
    const { first } = await duplicates(20, 'admin', {
      method: 'PATCH',
      url: `/v1/lists/${list.id}`,
      payload: { description: 'once' },
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(await audits('list.update', list.id)).toBe(1);
  });

  it('claims, validations, cancels and reversals: one claim, one attempt, one cancel, one reversal', async () => {
    const list = await createList(t, {
      name: `dup claims ${++seq}`,
      type: 'single_use',
      outcome: { points: { amount: 5, account: 'spendable', source: 'promo' }, offers: ['coffee'] },
    });
    const { codes } = await generateBatch(t, list.id, 3);
    const customer = await registerCustomer(t, `dup-claimer-${seq}`);
    const attempts = () => count('SELECT count(*)::int AS n FROM attempts WHERE customer_id = $1', [customer]);

    const validated = await duplicates(30, 'client', {
      method: 'POST',
      url: '/v1/claims/validate',
      payload: { code: codes[0], customer_id: customer },
    });
    expect(validated.first.statusCode, validated.first.body).toBe(200);
    expect(await attempts()).toBe(1);

    const claimed = await duplicates(50, 'client', {
      method: 'POST',
      url: '/v1/claims',
      payload: { code: codes[0], customer_id: customer },
    });
    expect(claimed.first.statusCode, claimed.first.body).toBe(201);
    expect(await count('SELECT count(*)::int AS n FROM claims WHERE customer_id = $1', [customer])).toBe(1);
    // A successful claim is its own record; no attempt row is added.
    expect(await attempts()).toBe(1);

    const cancelled = await duplicates(20, 'agent', {
      method: 'POST',
      url: `/v1/codes/${codes[1]}/cancel`,
      payload: { reason: 'lost' },
    });
    expect(cancelled.first.statusCode, cancelled.first.body).toBe(200);
    expect(await audits('code.cancel', codes[1]!)).toBe(1);

    const id = claimed.first.data.claim.id;
    const reversed = await duplicates(30, 'agent', {
      method: 'POST',
      url: `/v1/claims/${id}/reversal`,
      payload: { reason: 'dup' },
    });
    expect(reversed.first.statusCode, reversed.first.body).toBe(200);
    expect(await audits('claim.reverse', id)).toBe(1);
    expect(
      await count('SELECT COALESCE(sum(amount), 0)::int AS n FROM points_ledger WHERE customer_id = $1', [customer]),
    ).toBe(0);
  });

  it('a refusal is an answer too: it is replayed, not run again', async () => {
    const list = await createList(t, {
      name: `dup refusal ${++seq}`,
      type: 'multi_use',
      code: `DUPREF${seq}`,
      outcome: { tags: ['dup'] },
    });
    const key = newKey();
    const request = {
      method: 'POST' as const,
      url: '/v1/lists',
      payload: { name: 'another', type: 'multi_use', code: list.code, outcome: { tags: ['dup'] } },
      headers: { 'idempotency-key': key },
    };
    const taken = await t.call('admin', request);
    expect(taken.statusCode, taken.body).toBe(409);
    // The code is free again, yet the key answers what it answered first.
    await t.pool.query(`UPDATE codes SET code = code || 'FREED' WHERE list_id = $1`, [list.id]);
    const again = await t.call('admin', request);
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.data).toEqual(taken.data);
  });
});

describe('a key', () => {
  it('used with another body or on another route answers 422 idempotency_key_reused and changes nothing', async () => {
    const key = newKey();
    const name = `reuse ${++seq}`;
    const first = await t.call('admin', {
      method: 'POST',
      url: '/v1/api-keys',
      payload: { name, role: 'client' },
      headers: { 'idempotency-key': key },
    });
    expect(first.statusCode).toBe(201);
    for (const other of [
      { method: 'POST' as const, url: '/v1/api-keys', payload: { name: `${name} 2`, role: 'client' } },
      { method: 'POST' as const, url: '/v1/point-accounts', payload: { key: `reuse${seq}`, name: 'x' } },
    ]) {
      const res = await t.call('admin', { ...other, headers: { 'idempotency-key': key } });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.data.error.code).toBe('idempotency_key_reused');
    }
    expect(await count('SELECT count(*)::int AS n FROM api_keys WHERE name LIKE $1', [`${name}%`])).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM point_accounts WHERE key = $1', [`reuse${seq}`])).toBe(0);
  });

  it('belongs to its caller: another API key with the same key does its own write', async () => {
    const key = newKey();
    const payload = (n: string) => ({
      method: 'PUT' as const,
      url: `/v1/customers/${n}`,
      payload: {},
      headers: { 'idempotency-key': key },
    });
    const a = await t.call('client', payload(`own-a-${++seq}`));
    const b = await t.call('admin', payload(`own-b-${seq}`));
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
  });

  it('whose first request is still running makes a duplicate wait, then replay its answer', async () => {
    const key = newKey();
    const holder = new pg.Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      // Another request holding the key: its row is written but not committed.
      const principal = t.actors.admin;
      await holder.query('BEGIN');
      await holder.query('INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)', [
        principal,
        key,
        'x',
      ]);
      const waiting = t.call('admin', {
        method: 'POST',
        url: '/v1/point-accounts',
        payload: { key: `wait${++seq}`, name: 'w' },
        headers: { 'idempotency-key': key },
      });
      await new Promise((r) => setTimeout(r, 300));
      await holder.query('ROLLBACK');
      // The holder rolled back: the key is free and the waiting request does the work.
      const res = await waiting;
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();

      const replayed = await t.call('admin', {
        method: 'POST',
        url: '/v1/point-accounts',
        payload: { key: `wait${seq}`, name: 'w' },
        headers: { 'idempotency-key': key },
      });
      expect(replayed.statusCode).toBe(201);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
    } finally {
      await holder.end();
    }
  });

  it(
    `whose first request runs longer than IDEMPOTENCY_WAIT_MS answers 409 idempotency_key_in_progress with Retry-After`,
    async () => {
      const key = newKey();
      const holder = new pg.Client({ connectionString: t.databaseUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)', [
          t.actors.admin,
          key,
          'x',
        ]);
        const res = await t.call('admin', {
          method: 'POST',
          url: '/v1/point-accounts',
          payload: { key: `slow${++seq}`, name: 's' },
          headers: { 'idempotency-key': key },
        });
        expect(res.statusCode, res.body).toBe(409);
        expect(res.data.error.code).toBe('idempotency_key_in_progress');
        expect(res.headers['retry-after']).toBe('1');
        await holder.query('ROLLBACK');
        expect(await count('SELECT count(*)::int AS n FROM point_accounts WHERE key = $1', [`slow${seq}`])).toBe(0);
      } finally {
        await holder.end();
      }
    },
    WAIT_MS * 3,
  );

  it('that is malformed is a 400, and writes outside /v1 ignore keys', async () => {
    const res = await t.call('admin', {
      method: 'POST',
      url: '/v1/point-accounts',
      payload: { key: 'bad', name: 'b' },
      headers: { 'idempotency-key': 'has space' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.data.error.code).toBe('validation_failed');
  });
});
