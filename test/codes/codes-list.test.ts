import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp();
const { newList } = fixtures(t, { list: { name: 'Listed', outcome: { tags: ['listed'] } } });

interface CodeItem {
  code: string;
  list_id: string;
  batch_id: string | null;
  import_id: string | null;
  status: 'available' | 'claimed' | 'cancelled';
  claimed_by: string | null;
  claimed_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
}

const codesPage = (listId: string, query = '') =>
  t.call('agent', { method: 'GET', url: `/v1/lists/${listId}/codes${query}` });

/** Follows next_cursor to the end; returns every page's items. */
async function walk(listId: string, query: string): Promise<CodeItem[][]> {
  const pages: CodeItem[][] = [];
  let cursor: string | null = null;
  do {
    const res = await codesPage(listId, `?${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    pages.push(res.data.items);
    cursor = res.data.next_cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return pages;
}
const waitActive = (path: string) =>
  eventually(
    async () => {
      const found = (await t.call('agent', { method: 'GET', url: path })).data;
      expect(found.status).not.toBe('failed');
      return found.status === 'active' && found;
    },
    30_000,
    `${path} to become active`,
  );

useTestWorker(t);

describe('a single_use list with two batches', () => {
  let list: { id: string };
  let first: string;
  let second: string;
  const codesOf = async (batchId: string) =>
    (
      await t.pool.query<{ code: string }>('SELECT code FROM codes WHERE source_id = $1 ORDER BY code COLLATE "C"', [
        batchId,
      ])
    ).rows.map((r) => r.code);

  beforeAll(async () => {
    list = await newList({ type: 'single_use' });
    first = (await t.call('admin', { method: 'POST', url: `/v1/lists/${list.id}/batches`, payload: { count: 10 } }))
      .data.id;
    second = (await t.call('admin', { method: 'POST', url: `/v1/lists/${list.id}/batches`, payload: { count: 15 } }))
      .data.id;
    await waitActive(`/v1/batches/${first}`);
    await waitActive(`/v1/batches/${second}`);
    expect(BigInt(first) < BigInt(second)).toBe(true);
  });

  it('walks every code exactly once, in (batch, code) order, 7 at a time', async () => {
    const pages = await walk(list.id, 'limit=7');
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
    const items = pages.flat();
    const expected = [
      ...(await codesOf(first)).map((code) => [code, first]),
      ...(await codesOf(second)).map((code) => [code, second]),
    ];
    expect(items.map((c) => [c.code, c.batch_id])).toEqual(expected);
    expect(new Set(items.map((c) => c.code)).size).toBe(25);
    expect(items[0]).toEqual({
      code: expected[0]![0],
      list_id: list.id,
      batch_id: first,
      import_id: null,
      status: 'available',
      claimed_by: null,
      claimed_at: null,
      cancelled_at: null,
      cancel_reason: null,
    });
  });

  it('filters by batch, and ends without a cursor when the last page is full', async () => {
    const pages = await walk(list.id, `batch_id=${first}&limit=5`);
    expect(pages.map((p) => p.length)).toEqual([5, 5]);
    expect(pages.flat().map((c) => c.code)).toEqual(await codesOf(first));
    expect(pages.flat().every((c) => c.batch_id === first)).toBe(true);
    const other = await newList({ type: 'single_use' });
    const foreign = await codesPage(other.id, `?batch_id=${first}`);
    expect(foreign.data).toEqual({ items: [], next_cursor: null });
    const asImport = await codesPage(list.id, `?import_id=${first}`); // a batch is not an import
    expect(asImport.data).toEqual({ items: [], next_cursor: null });
  });

  it('filters by status', async () => {
    const claimed = (await codesOf(first)).slice(0, 3);
    const cancelled = (await codesOf(second)).slice(-2);
    await t.pool.query("UPDATE codes SET claimed_at = now(), claimed_by = 'c1' WHERE code = ANY($1)", [claimed]);
    await t.pool.query("UPDATE codes SET cancelled_at = now(), cancel_reason = 'lost' WHERE code = ANY($1)", [
      cancelled,
    ]);

    const claimedItems = (await walk(list.id, 'status=claimed&limit=2')).flat();
    expect(claimedItems.map((c) => [c.code, c.status, c.claimed_by])).toEqual(
      claimed.map((code) => [code, 'claimed', 'c1']),
    );
    expect(claimedItems.every((c) => c.claimed_at !== null && c.cancelled_at === null)).toBe(true);

    const cancelledItems = (await walk(list.id, 'status=cancelled')).flat();
    expect(cancelledItems.map((c) => [c.code, c.status, c.cancel_reason, c.batch_id])).toEqual(
      cancelled.map((code) => [code, 'cancelled', 'lost', second]),
    );

    const available = (await walk(list.id, 'status=available&limit=7')).flat().map((c) => c.code);
    const all = [...(await codesOf(first)), ...(await codesOf(second))];
    expect(available).toEqual(all.filter((code) => !claimed.includes(code) && !cancelled.includes(code)));
    expect(available).toHaveLength(20);
    expect((await walk(list.id, `status=available&batch_id=${second}`)).flat()).toHaveLength(13);
  });

  it('refuses bad cursors and batch_id with import_id', async () => {
    const tampered = Buffer.from(JSON.stringify(['abc', 'X'])).toString('base64url');
    const nul = Buffer.from(JSON.stringify(['1', 'A\u0000'])).toString('base64url');
    for (const cursor of ['not-a-cursor', tampered, nul, Buffer.from('[1]').toString('base64url')]) {
      const res = await codesPage(list.id, `?cursor=${cursor}`);
      expect([res.statusCode, res.data.error.code], cursor).toEqual([400, 'validation_failed']);
    }
    const both = await codesPage(list.id, `?batch_id=${first}&import_id=${first}`);
    expect([both.statusCode, both.data.error.code]).toEqual([400, 'validation_failed']);
    for (const query of ['?status=lost', '?batch_id=abc', '?limit=0', '?limit=1001', '?colour=red']) {
      expect((await codesPage(list.id, query)).statusCode, query).toBe(400);
    }
  });
});

describe('other lists', () => {
  it('lists a third_party list by import, with the display form of each code', async () => {
    const list = await newList({ type: 'third_party' });
    const upload = async (body: string) => {
      const res = await t.call('admin', {
        method: 'POST',
        url: `/v1/lists/${list.id}/imports`,
        payload: body,
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.statusCode, res.body).toBe(202);
      return (await waitActive(`/v1/imports/${res.data.id}`)).id as string;
    };
    const one = await upload('zz-top 99\nab-cd 12\nMM-00\n');
    const two = await upload('QQQ111\n');

    const byImport = (await walk(list.id, `import_id=${one}&limit=1`)).flat();
    expect(byImport.map((c) => [c.code, c.import_id, c.batch_id])).toEqual([
      ['ab-cd 12', one, null],
      ['MM-00', one, null],
      ['zz-top 99', one, null],
    ]);
    const all = (await walk(list.id, 'limit=2')).flat();
    expect(all.map((c) => [c.code, c.import_id])).toEqual([
      ['ab-cd 12', one],
      ['MM-00', one],
      ['zz-top 99', one],
      ['QQQ111', two],
    ]);
    expect((await walk(list.id, `import_id=${two}`)).flat().map((c) => c.code)).toEqual(['QQQ111']);
    // An import is not a batch.
    expect((await codesPage(list.id, `?batch_id=${two}`)).data).toEqual({ items: [], next_cursor: null });
  });

  it('lists the one code of a multi_use list as the admin typed it', async () => {
    const list = await newList({ type: 'multi_use', code: 'Spring-Sale' });
    const res = await codesPage(list.id);
    expect(res.statusCode).toBe(200);
    expect(res.data).toEqual({
      items: [
        {
          code: 'Spring-Sale',
          list_id: list.id,
          batch_id: null,
          import_id: null,
          status: 'available',
          claimed_by: null,
          claimed_at: null,
          cancelled_at: null,
          cancel_reason: null,
        },
      ],
      next_cursor: null,
    });
  });

  it('answers 404 for an unknown list and 403 for a client key', async () => {
    const unknown = await codesPage('999999');
    expect([unknown.statusCode, unknown.data.error.code]).toEqual([404, 'list_not_found']);
    const list = await newList({ type: 'multi_use', code: 'NOCLIENT' });
    expect((await t.call('client', { method: 'GET', url: `/v1/lists/${list.id}/codes` })).statusCode).toBe(403);
  });
});
