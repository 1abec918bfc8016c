import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCodes } from '../../src/codes/exports';
import { failBatch } from '../../src/codes/batches.job';
import { insertBatchCodes } from '../../src/codes/batches.sql';
import { transaction } from '../../src/db/pool';
import { useTestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { alertsTo, startSmtpServer } from '../support/smtp';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp({ MAX_CODES_PER_REQUEST: '20000' });
const { newList } = fixtures(t, { list: { name: 'Batch target', type: 'single_use', outcome: { tags: ['welcome'] } } });
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp?.close());

const requestBatch = (listId: string, payload: Record<string, unknown>) =>
  t.call('admin', { method: 'POST', url: `/v1/lists/${listId}/batches`, payload });
const getBatch = async (id: string) => (await t.call('agent', { method: 'GET', url: `/v1/batches/${id}` })).data;
const waitActive = (id: string) =>
  eventually(
    async () => {
      const batch = await getBatch(id);
      expect(batch.status).not.toBe('failed');
      return batch.status === 'active' && batch;
    },
    30_000,
    `batch ${id} to become active`,
  );
const codesOf = async (batchId: string) =>
  (
    await t.pool.query<{ code: string }>('SELECT code FROM codes WHERE source_id = $1 ORDER BY code', [batchId])
  ).rows.map((r) => r.code);

describe('before any worker runs', () => {
  it('accepts a batch as pending and refuses to export it with batch_not_ready', async () => {
    const list = await newList();
    const res = await requestBatch(list.id, { count: 10, name: 'Early' });
    expect(res.statusCode).toBe(202);
    expect(res.data).toMatchObject({
      list_id: list.id,
      name: 'Early',
      requested: 10,
      generated: 0,
      status: 'pending',
      error: null,
      notify: [],
      completed_at: null,
    });
    expect(res.data.format).toEqual({ length: 10, prefix: '', suffix: '', charset: 'unambiguous' });
    const exported = await t.call('admin', { method: 'GET', url: `/v1/batches/${res.data.id}/export?format=csv` });
    expect(exported.statusCode).toBe(409);
    expect(exported.data.error.code).toBe('batch_not_ready');
  });
});

describe('with a worker', () => {
  useTestWorker(t, () => ({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://promo.example' }));

  it('generates exactly the requested number of distinct codes in the default format', async () => {
    const list = await newList();
    const batch = (await requestBatch(list.id, { count: 5000 })).data;
    const done = await waitActive(batch.id);
    expect(done).toMatchObject({ requested: 5000, generated: 5000, status: 'active' });
    expect(Date.parse(done.completed_at)).not.toBeNaN();
    const codes = await codesOf(batch.id);
    expect(codes).toHaveLength(5000);
    expect(new Set(codes).size).toBe(5000);
    for (const code of codes) expect(code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{10}$/);
    const view = (await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}` })).data;
    expect(view).toMatchObject({ code_count: 5000, available_count: 5000 });
  });

  it('honours length, prefix, suffix and charset', async () => {
    const list = await newList();
    const cases = [
      [{ length: 6, charset: 'letters', prefix: 'spr', suffix: 'X1' }, /^SPR[A-Z]{6}X1$/],
      [{ length: 12, charset: 'numeric' }, /^[0-9]{12}$/],
      [{ length: 32, charset: 'alphanumeric', prefix: 'A'.repeat(16) }, /^A{16}[0-9A-Z]{32}$/],
    ] as const;
    for (const [format, pattern] of cases) {
      const batch = (await requestBatch(list.id, { count: 300, format })).data;
      await waitActive(batch.id);
      const codes = await codesOf(batch.id);
      expect(codes).toHaveLength(300);
      for (const code of codes) expect(code).toMatch(pattern);
    }
  });

  it('spreads characters evenly over the charset', async () => {
    const list = await newList();
    const batch = (await requestBatch(list.id, { count: 10000, format: { length: 8, charset: 'numeric' } })).data;
    await waitActive(batch.id);
    const counts = new Map<string, number>();
    for (const code of await codesOf(batch.id)) for (const c of code) counts.set(c, (counts.get(c) ?? 0) + 1);
    // 80,000 digits: each of the ten should be within ±5% of 8,000 (about 6 standard deviations).
    expect(counts.size).toBe(10);
    for (const n of counts.values()) expect(Math.abs(n - 8000)).toBeLessThan(400);
  });

  it('sends an alert that links to the dashboard and never contains a code', async () => {
    const list = await newList({ name: 'Autumn push' });
    const batch = (
      await requestBatch(list.id, { count: 200, name: 'Mailers', notify: ['ops@example.com', 'lead@example.com'] })
    ).data;
    await waitActive(batch.id);
    const mail = await alertsTo(smtp.mails, 'Mailers', ['ops@example.com', 'lead@example.com'], 'promo.example');
    expect(mail.subject).toBe('Batch "Mailers" for "Autumn push" is ready');
    expect(mail.text).toContain('200 codes were generated');
    expect(mail.text).toContain(`https://promo.example/lists/${list.id}`);
    for (const code of await codesOf(batch.id)) expect(mail.text).not.toContain(code);
  });

  it('alerts when a batch fails, and gives its unused room back to the format', async () => {
    const list = await newList({ name: 'Doomed' });
    const format = { length: 6, charset: 'numeric', prefix: 'FAIL' };
    // A batch that takes the whole room.
    const batch = (await requestBatch(list.id, { count: 100, format, notify: ['ops@example.com'] })).data;
    expect((await requestBatch(list.id, { count: 1, format })).data.error.code).toBe('code_space_too_small');
    await waitActive(batch.id);
    // As if it had failed after making 40 of its 100 codes.
    await t.pool.query("UPDATE batches SET status = 'pending', generated = 40, completed_at = NULL WHERE id = $1", [
      batch.id,
    ]);
    await failBatch(t.pool, batch.id, 'the disk caught fire');
    expect(await getBatch(batch.id)).toMatchObject({ status: 'failed', error: 'the disk caught fire' });
    const mail = await eventually(
      async () => smtp.mails.find((m) => m.text.includes('the disk caught fire')),
      15_000,
      'the failure mail',
    );
    expect(mail.subject).toBe(`Batch #${batch.id} for "Doomed" failed`);
    const refused = await requestBatch(list.id, { count: 61, format });
    expect(refused.data.error.details.max_count).toBe(60);
    expect((await requestBatch(list.id, { count: 60, format })).statusCode).toBe(202);
  });

  it('exports a batch as csv and xlsx, and a whole list', async () => {
    const list = await newList({ name: 'Spring / Fête 2027' });
    const batch = (await requestBatch(list.id, { count: 1000, name: 'Box 1' })).data;
    await waitActive(batch.id);
    const other = (await requestBatch(list.id, { count: 50 })).data;
    await waitActive(other.id);
    const codes = await codesOf(batch.id);
    const day = new Date().toISOString().slice(0, 10);

    const csv = await t.call('admin', { method: 'GET', url: `/v1/batches/${batch.id}/export?format=csv` });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    // Named for people: list, batch and date, in UTF-8 and in ASCII.
    const ascii = `Spring-Fete-2027_batch-Box-1_${day}.csv`;
    const utf8 = encodeURIComponent(`Spring-Fête-2027_batch-Box-1_${day}.csv`);
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`);
    const lines = csv.body.trim().split('\n');
    expect(csv.body.startsWith('\uFEFFcode,')).toBe(true); // a BOM, so that Excel reads UTF-8 (trim() drops it below)
    expect(lines[0]).toBe('code,status,batch,batch_name,created_at,claimed_by,claimed_at');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(codes);
    expect(lines[1]).toMatch(new RegExp(`^[A-Z0-9]{10},available,${batch.id},Box 1,\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z,,$`));

    const xlsx = await t.call('admin', { method: 'GET', url: `/v1/batches/${batch.id}/export?format=xlsx` });
    expect(xlsx.statusCode).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.rowCount).toBe(1001);
    expect(sheet.getRow(1).values).toEqual([
      undefined,
      'code',
      'status',
      'batch',
      'batch_name',
      'created_at',
      'claimed_by',
      'claimed_at',
    ]);
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBe('A1:G1001');
    expect(sheet.getColumn(4).width).toBe(24);
    const first = sheet.getRow(2);
    expect(first.getCell(1).value).toBe(codes[0]);
    expect(first.getCell(3).value).toBe(Number(batch.id)); // ids as numbers
    expect(first.getCell(4).value).toBe('Box 1');
    const created = first.getCell(5).value as Date;
    expect(created).toBeInstanceOf(Date); // dates as dates
    expect(Math.abs(created.getTime() - Date.parse(batch.created_at))).toBeLessThan(1000);
    expect(first.getCell(5).numFmt).toBe('yyyy-mm-dd hh:mm:ss');

    const whole = await t.call('admin', { method: 'GET', url: `/v1/lists/${list.id}/export?format=csv` });
    expect(whole.statusCode).toBe(200);
    expect(whole.body.trim().split('\n')).toHaveLength(1051);
  });

  it('starts a new sheet before the row limit', async () => {
    const list = await newList();
    const batch = (await requestBatch(list.id, { count: 1000 })).data;
    await waitActive(batch.id);
    const stream = await exportCodes(
      t.pool,
      { listId: list.id, sourceId: batch.id, sourceLabel: 'batch' },
      'xlsx',
      401,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.concat(chunks) as unknown as ArrayBuffer);
    // 400 + 400 + 200 codes, each sheet with a header
    expect(book.worksheets.map((s) => s.rowCount)).toEqual([401, 401, 201]);
    const exported = book.worksheets.flatMap((s) =>
      s
        .getSheetValues()
        .slice(2)
        .map((row) => (row as string[])[1]),
    );
    expect(exported).toEqual(await codesOf(batch.id));
  });

  it("lists a list's batches newest first", async () => {
    const list = await newList();
    const first = (await requestBatch(list.id, { count: 5, name: 'one' })).data;
    const second = (await requestBatch(list.id, { count: 5, name: 'two' })).data;
    const page = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}/batches` });
    expect(page.data.items.map((b: { id: string }) => b.id)).toEqual([second.id, first.id]);
    await waitActive(second.id);
  });
});

describe('refusals', () => {
  it('enforces the sparsity rule with the largest count that fits', async () => {
    const list = await newList();
    const format = { length: 6, charset: 'numeric' }; // 10^6 codes, room for 100
    const tooMany = await requestBatch(list.id, { count: 101, format });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.data.error).toMatchObject({
      code: 'code_space_too_small',
      details: { max_count: 100, possible_codes: '1000000' },
    });
    expect((await requestBatch(list.id, { count: 60, format })).statusCode).toBe(202);
    const rest = await requestBatch(list.id, { count: 41, format });
    expect(rest.data.error.details.max_count).toBe(40);
    // Another prefix is another space.
    expect((await requestBatch(list.id, { count: 40, format: { ...format, prefix: 'X' } })).statusCode).toBe(202);
  });

  it('refuses counts above MAX_CODES_PER_REQUEST, other list types, completed and unknown lists', async () => {
    const list = await newList();
    const over = await requestBatch(list.id, { count: 20001 });
    expect(over.statusCode).toBe(400);
    expect(over.data.error.details.fields[0].path).toBe('body.count');
    const multi = await newList({ type: 'multi_use', code: 'NOBATCH' });
    expect((await requestBatch(multi.id, { count: 1 })).data.error.code).toBe('wrong_list_type');
    const third = await newList({ type: 'third_party' });
    expect((await requestBatch(third.id, { count: 1 })).data.error.code).toBe('wrong_list_type');
    const ended = await newList({ starts_at: '2020-01-01T00:00:00Z', ends_at: '2020-02-01T00:00:00Z' });
    expect((await requestBatch(ended.id, { count: 1 })).data.error.code).toBe('list_completed');
    expect((await requestBatch('999999', { count: 1 })).statusCode).toBe(404);
    for (const payload of [
      { count: 0 },
      { count: 1.5 },
      { count: '5' },
      { count: 1, format: { length: 5 } },
      { count: 1, format: { length: 33 } },
      { count: 1, format: { prefix: 'A-B' } },
      { count: 1, format: { charset: 'emoji' } },
      { count: 1, notify: ['not-an-email'] },
      { count: 1, colour: 'red' },
    ]) {
      const res = await requestBatch(list.id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});

describe('inserting a chunk', () => {
  it('skips codes that exist anywhere and never exceeds the room left', async () => {
    const list = await newList();
    const batch = (await requestBatch(list.id, { count: 5 })).data;
    await t.pool.query("INSERT INTO codes (code, list_id, source_id) VALUES ('TAKEN00001', $1, 0)", [list.id]);
    const first = await insertBatchCodes(t.pool, batch, ['TAKEN00001', 'NEW0000001', 'NEW0000002', 'NEW0000003'], 2);
    expect(first.inserted).toBe(1); // LIMIT 2 took TAKEN00001 (skipped) and NEW0000001
    const all = await insertBatchCodes(t.pool, batch, ['NEW0000001', 'NEW0000002', 'NEW0000002', 'NEW0000003'], 10);
    expect(all.inserted).toBe(2); // the existing one and the repeat are skipped
    expect((await getBatch(batch.id)).generated).toBe(3);
  });

  it('falls back from a plain insert to skipping clashes, inside the same transaction', async () => {
    const list = await newList();
    const batch = (await requestBatch(list.id, { count: 10 })).data;
    await t.pool.query("INSERT INTO codes (code, list_id, source_id) VALUES ('CLASH00001', $1, 0)", [list.id]);
    const result = await transaction(t.pool, async (tx) => {
      const clean = await insertBatchCodes(tx, batch, ['FRESH00001', 'FRESH00002'], 10, true);
      const clashing = await insertBatchCodes(tx, batch, ['CLASH00001', 'FRESH00003'], 10, true);
      return { clean, clashing };
    });
    expect(result.clean).toEqual({ inserted: 2, clashed: false });
    expect(result.clashing).toEqual({ inserted: 1, clashed: true });
    expect((await getBatch(batch.id)).generated).toBe(3);
    expect(await codesOf(batch.id)).toEqual(['FRESH00001', 'FRESH00002', 'FRESH00003']);
  });
});
