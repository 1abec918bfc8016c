// Building blocks the claim, lookup and troubleshoot tests share: customers, lists, and
// codes made by a real batch or import (the files using these start a worker).
import { expect } from 'vitest';
import type { TestApp } from './context';
import { eventually } from './worker';

export async function registerCustomer(t: TestApp, id: string): Promise<string> {
  const res = await t.call('client', { method: 'PUT', url: `/v1/customers/${id}`, payload: {} });
  expect(res.statusCode, res.body).toBe(201);
  return id;
}

/** Catalog entries for outcomes to refer to: point accounts and sources by key, offers by id, each with its name. */
export async function createCatalog(
  t: TestApp,
  catalog: { accounts?: Record<string, string>; sources?: Record<string, string>; offers?: Record<string, string> },
): Promise<void> {
  const entries = [
    ...Object.entries(catalog.accounts ?? {}).map(([key, name]) => ['/v1/point-accounts', { key, name }] as const),
    ...Object.entries(catalog.sources ?? {}).map(([key, name]) => ['/v1/point-sources', { key, name }] as const),
    ...Object.entries(catalog.offers ?? {}).map(([id, name]) => ['/v1/offers', { id, name }] as const),
  ];
  for (const [url, payload] of entries) {
    const res = await t.call('admin', { method: 'POST', url, payload });
    expect(res.statusCode, res.body).toBe(201);
  }
}

export async function createList(t: TestApp, payload: Record<string, unknown>): Promise<any> {
  const res = await t.call('admin', { method: 'POST', url: '/v1/lists', payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.data;
}

/** Waits until a batch or import is active (failing fast if it failed); returns it. */
async function untilActive(t: TestApp, route: string): Promise<any> {
  return eventually(
    async () => {
      const { data } = await t.call('agent', { method: 'GET', url: route });
      expect(data.status).not.toBe('failed');
      return data.status === 'active' && data;
    },
    30_000,
    route,
  );
}

/** Generates `count` (≤ 1000) codes in a batch and waits for them; returns the batch and its codes. */
export async function generateBatch(
  t: TestApp,
  listId: string,
  count: number,
  name?: string,
): Promise<{ batch: any; codes: string[] }> {
  const created = await t.call('admin', {
    method: 'POST',
    url: `/v1/lists/${listId}/batches`,
    payload: { count, ...(name ? { name } : {}) },
  });
  expect(created.statusCode, created.body).toBe(202);
  const batch = await untilActive(t, `/v1/batches/${created.data.id}`);
  const page = await t.call('agent', {
    method: 'GET',
    url: `/v1/lists/${listId}/codes?batch_id=${batch.id}&limit=1000`,
  });
  expect(page.data.items).toHaveLength(count);
  return { batch, codes: page.data.items.map((c: { code: string }) => c.code) };
}

/** Imports `lines` as plain text into a third-party list and waits for it; returns the import. */
export async function importCodes(t: TestApp, listId: string, lines: string[], name?: string): Promise<any> {
  const query = name ? `?name=${encodeURIComponent(name)}` : '';
  const created = await t.call('admin', {
    method: 'POST',
    url: `/v1/lists/${listId}/imports${query}`,
    payload: lines.join('\n'),
    headers: { 'content-type': 'text/plain' },
  });
  expect(created.statusCode, created.body).toBe(202);
  return untilActive(t, `/v1/imports/${created.data.id}`);
}
