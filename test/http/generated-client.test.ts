// A client generated from /docs/json by standard tools (openapi-typescript's types, driven by
// openapi-fetch) does the README's tasks over real HTTP with no untyped call: every path,
// parameter, body and answer below is checked by the compiler against the document.
import createClient from 'openapi-fetch';
import { beforeAll, describe, expect, it } from 'vitest';
import type { paths } from '../../web/src/api/schema';
import { useTestApp } from '../support/context';
import { useTestWorker } from '../support/worker';

const t = useTestApp();
let base: string;

useTestWorker(t);
beforeAll(async () => {
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});

const clientFor = (role: 'admin' | 'agent' | 'client') =>
  createClient<paths>({ baseUrl: base, headers: { authorization: `Bearer ${t.keys[role]}` } });

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out');
}

describe('a generated client', () => {
  it('runs a single-use list from creation to a reversed claim', async () => {
    const admin = clientFor('admin');
    const agent = clientFor('agent');
    const client = clientFor('client');

    const account = await admin.POST('/v1/point-accounts', { body: { key: 'spendable', name: 'Spendable' } });
    expect(account.response.status).toBe(201);
    await admin.POST('/v1/point-sources', { body: { key: 'promo', name: 'Promo' } });
    const list = await admin.POST('/v1/lists', {
      body: {
        name: 'Generated client',
        type: 'single_use',
        outcome: { points: { amount: 50, account: 'spendable', source: 'promo' } },
      },
    });
    expect(list.response.status).toBe(201);
    const listId = list.data!.id;

    const batch = await admin.POST('/v1/lists/{id}/batches', {
      params: { path: { id: listId }, header: { 'Idempotency-Key': 'batch-once' } },
      body: { count: 20, format: { length: 8, prefix: 'GEN' } },
    });
    expect(batch.response.status).toBe(202);
    const retried = await admin.POST('/v1/lists/{id}/batches', {
      params: { path: { id: listId }, header: { 'Idempotency-Key': 'batch-once' } },
      body: { count: 20, format: { length: 8, prefix: 'GEN' } },
    });
    expect(retried.response.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.data!.id).toBe(batch.data!.id);

    await until(async () => {
      const { data } = await agent.GET('/v1/batches/{id}', { params: { path: { id: batch.data!.id } } });
      return data?.status === 'active' ? data : undefined;
    });
    const exported = await admin.GET('/v1/batches/{id}/export', {
      params: { path: { id: batch.data!.id }, query: { format: 'csv' } },
      parseAs: 'text',
    });
    expect(exported.response.headers.get('content-type')).toMatch(/^text\/csv/);
    const codes = exported
      .data!.trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[0]!);
    expect(codes).toHaveLength(20);

    expect(
      (await client.PUT('/v1/customers/{id}', { params: { path: { id: 'gen-1' } }, body: { name: 'Gen' } })).response
        .status,
    ).toBe(201);
    const validated = await client.POST('/v1/claims/validate', {
      body: { code: codes[0]!.toLowerCase(), customer_id: 'gen-1' },
    });
    expect(validated.data!.outcome.points?.amount).toBe(50);
    const claimed = await client.POST('/v1/claims', {
      params: { header: { 'Idempotency-Key': 'order-1' } },
      body: { code: codes[0]!, customer_id: 'gen-1' },
    });
    expect(claimed.response.status).toBe(201);
    const again = await client.POST('/v1/claims', { body: { code: codes[0]!, customer_id: 'gen-1' } });
    // The refusal is typed too: its code is one of the enum the document gives this status.
    expect(again.response.status).toBe(409);
    const refusal: string | undefined = again.error?.error.code;
    expect(refusal).toBe('code_already_claimed');

    const found = await agent.GET('/v1/codes/{code}', { params: { path: { code: codes[0]! } } });
    expect(found.data!.status).toBe('claimed');
    const report = await agent.GET('/v1/troubleshoot', {
      params: { query: { code: codes[0]!, customer_id: 'gen-1' } },
    });
    expect(report.data!.verdict?.would_succeed).toBe(false);
    const reversed = await agent.POST('/v1/claims/{id}/reversal', {
      params: { path: { id: claimed.data!.claim.id } },
      body: { reason: 'test' },
    });
    expect(reversed.data!.reversed).toBe(true);
    const claims = await agent.GET('/v1/customers/{id}/claims', { params: { path: { id: 'gen-1' } } });
    expect(claims.data!.items.map((c) => c.reversed)).toEqual([true]);
  });

  it('uploads third-party codes and reads the rejected rows back', async () => {
    const admin = clientFor('admin');
    const list = await admin.POST('/v1/lists', {
      body: { name: 'Partner codes', type: 'third_party', outcome: { tags: ['partner'] } },
    });
    const file = 'code\nPARTNER-0001\nPARTNER-0002\nPARTNER-0001\n';
    const created = await admin.POST('/v1/lists/{id}/imports', {
      params: { path: { id: list.data!.id }, query: { name: 'partner file' } },
      body: file,
      bodySerializer: (body) => body,
      headers: { 'content-type': 'text/csv' },
    });
    expect(created.response.status).toBe(202);
    const done = await until(async () => {
      const { data } = await admin.GET('/v1/imports/{id}', { params: { path: { id: created.data!.id } } });
      return data?.status === 'active' ? data : undefined;
    });
    expect([done.accepted, done.rejected]).toEqual([2, 1]);
    const rejected = await admin.GET('/v1/imports/{id}/report', { params: { path: { id: done.id } }, parseAs: 'text' });
    expect(rejected.data).toContain('duplicate');
  });
});
