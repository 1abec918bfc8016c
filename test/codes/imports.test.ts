import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processImport } from '../../src/codes/imports.job';
import { MAX_LINE_LENGTH } from '../../src/codes/upload';
import { useTestApp, type TestApp } from '../support/context';
import { fixtures } from '../support/fixtures';
import { alertsTo, startSmtpServer } from '../support/smtp';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp();
const LIST = { name: 'Partner codes', type: 'third_party', outcome: { tags: ['partner'] } };
const { newList } = fixtures(t, { list: LIST });
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => smtp?.close());

const upload = (
  listId: string,
  payload: string | Buffer | Readable,
  type = 'text/plain',
  query = '',
  app: TestApp = t,
) =>
  app.call('admin', {
    method: 'POST',
    url: `/v1/lists/${listId}/imports${query}`,
    payload,
    headers: { 'content-type': type },
  });
const getImport = async (id: string) => (await t.call('agent', { method: 'GET', url: `/v1/imports/${id}` })).data;
const waitActive = async (id: string) => {
  const done = await eventually(
    async () => {
      const imp = await getImport(id);
      return imp.status !== 'pending' && imp;
    },
    90_000,
    `import ${id} to finish`,
  );
  expect(done.status).toBe('active');
  return done;
};
const importAndWait = async (listId: string, body: string, query = '') => {
  const res = await upload(listId, body, 'text/plain', query);
  expect(res.statusCode, res.body).toBe(202);
  return waitActive(res.data.id);
};
const report = async (id: string) => {
  const res = await t.call('agent', { method: 'GET', url: `/v1/imports/${id}/report` });
  expect(res.statusCode).toBe(200);
  expect(res.body.split('\n')[0]).toBe('\uFEFFline,value,reason,detail,repeats_line');
  return (parse(res.body, { columns: true, bom: true }) as { line: string; value: string; reason: string }[]).map(
    (r) => [Number(r.line), r.value, r.reason],
  );
};
const storedCodes = async (importId: string) =>
  (
    await t.pool.query<{ code: string; display: string | null }>(
      'SELECT code, display FROM codes WHERE source_id = $1 ORDER BY code',
      [importId],
    )
  ).rows;
const importRows = async (listId: string) =>
  (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM imports WHERE list_id = $1', [listId])).rows[0]!.n;
const codeCount = async (listId: string) =>
  (await t.call('agent', { method: 'GET', url: `/v1/lists/${listId}` })).data.code_count;

describe('before any worker runs', () => {
  it('stages an upload as pending and refuses to export it with import_not_ready', async () => {
    const list = await newList();
    const res = await upload(list.id, 'EARLY001\nEARLY002\n', 'text/csv', '?name=Early');
    expect(res.statusCode).toBe(202);
    expect(res.data).toMatchObject({
      list_id: list.id,
      name: 'Early',
      status: 'pending',
      total_lines: 2,
      accepted: 0,
      rejected: 0,
      error: null,
      notify: [],
      completed_at: null,
    });
    const staged = await t.pool.query('SELECT line, value, code FROM import_lines WHERE import_id = $1 ORDER BY line', [
      res.data.id,
    ]);
    expect(staged.rows).toEqual([
      { line: 1, value: 'EARLY001', code: 'EARLY001' },
      { line: 2, value: 'EARLY002', code: 'EARLY002' },
    ]);
    const exported = await t.call('admin', { method: 'GET', url: `/v1/imports/${res.data.id}/export?format=csv` });
    expect(exported.statusCode).toBe(409);
    expect(exported.data.error.code).toBe('import_not_ready');
  });
});

describe('with a worker', () => {
  useTestWorker(t, () => ({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://promo.example' }));

  it('imports one code per line, normalized, keeping the typed form for display', async () => {
    const list = await newList();
    expect(await codeCount(list.id)).toBe(0);
    const res = await upload(list.id, 'ab-cd 12\nXYZ789\n  spring-sale  \n');
    expect(res.statusCode).toBe(202);
    expect(res.data).toMatchObject({ status: 'pending', total_lines: 3 });
    expect(await waitActive(res.data.id)).toMatchObject({
      status: 'active',
      total_lines: 3,
      accepted: 3,
      rejected: 0,
      error: null,
    });
    expect(await storedCodes(res.data.id)).toEqual([
      { code: 'ABCD12', display: 'ab-cd 12' },
      { code: 'SPRINGSALE', display: 'spring-sale' },
      { code: 'XYZ789', display: null },
    ]);
    expect(await codeCount(list.id)).toBe(3);
    await importAndWait(list.id, 'MORE0001\nMORE0002\n');
    expect(await codeCount(list.id)).toBe(5);
  });

  it('reads CSV: header, first column, quotes, BOM, blank lines and CRLF', async () => {
    const list = await newList();
    const body = '\uFEFF\r\ncode,note\r\n"AAA-111",first\r\n\r\nbbb222,"with, comma"\r\n"DDD,444",quoted comma\r\n';
    const res = await upload(list.id, body, 'Text/CSV; charset=UTF-8'); // media types are case-insensitive
    expect(res.data.total_lines).toBe(3);
    expect(await waitActive(res.data.id)).toMatchObject({ accepted: 2, rejected: 1 });
    expect(await storedCodes(res.data.id)).toEqual([
      { code: 'AAA111', display: 'AAA-111' },
      { code: 'BBB222', display: 'bbb222' },
    ]);
    expect(await report(res.data.id)).toEqual([[6, 'DDD,444', 'invalid']]);
  });

  it('reports duplicate, invalid and code_taken lines with their file line numbers', async () => {
    await newList({ type: 'multi_use', code: 'Taken-Multi' });
    await importAndWait((await newList()).id, 'OTHERIMP1\n');
    const list = await newList();
    const long = 'A'.repeat(300);
    const lines = ['abc123', 'ABC-123', '!!', 'ab', long, 'taken multi', 'otherimp1', 'abc123', 'good1'];
    const done = await importAndWait(list.id, lines.join('\n'));
    expect(done).toMatchObject({ total_lines: 9, accepted: 2, rejected: 7 });
    const rows = await report(done.id);
    expect(rows.map(([line, , reason]) => [line, reason])).toEqual([
      [2, 'duplicate'],
      [3, 'invalid'],
      [4, 'invalid'],
      [5, 'invalid'],
      [6, 'code_taken'],
      [7, 'code_taken'],
      [8, 'duplicate'],
    ]);
    expect(rows.filter(([line]) => line !== 5).map(([, value]) => value)).toEqual([
      'ABC-123',
      '!!',
      'ab',
      'taken multi',
      'otherimp1',
      'abc123',
    ]);
    expect(rows[3]![1]).toMatch(/^A{256,300}$/); // the over-long value, kept (perhaps cut) in the report
    expect((await storedCodes(done.id)).map((c) => c.code)).toEqual(['ABC123', 'GOOD1']);

    const csv = await t.call('admin', { method: 'GET', url: `/v1/imports/${done.id}/export?format=csv` });
    expect(csv.statusCode).toBe(200);
    const out = csv.body.trim().split('\n');
    expect(csv.body.startsWith('\uFEFF')).toBe(true);
    expect(out[0]).toBe('code,status,import,import_name,created_at,claimed_by,claimed_at');
    expect(out.slice(1).map((l) => l.split(',').slice(0, 3))).toEqual([
      ['abc123', 'available', done.id],
      ['good1', 'available', done.id],
    ]);
  });

  it('finds duplicates across the 50,000-line chunk boundary', async () => {
    const list = await newList();
    const lines = Array.from({ length: 59_999 }, (_, i) => `CB${String(i + 1).padStart(6, '0')}`);
    lines.push('cb-000001');
    const done = await importAndWait(list.id, `${lines.join('\n')}\n`);
    expect(done).toMatchObject({ total_lines: 60_000, accepted: 59_999, rejected: 1 });
    expect(await report(done.id)).toEqual([[60_000, 'cb-000001', 'duplicate']]);
    expect(await codeCount(list.id)).toBe(59_999);
  }, 120_000);

  it('refuses a quoted field that is never closed, naming the line it opens on, and stores nothing', async () => {
    const list = await newList();
    const res = await upload(list.id, 'GOOD0001\n"BAD0002\nGOOD0003\n', 'text/csv');
    expect(res.statusCode).toBe(400);
    expect(res.data.error.message).toContain('never closed');
    expect(await importRows(list.id)).toBe(0);
  });

  it('neutralizes cells a spreadsheet would run as formulas, in exports and in the report', async () => {
    const list = await newList();
    const done = await importAndWait(list.id, 'SAFE0001\n=HYPERLINK("x")\n@SUM(1)\n');
    // A customer whose id a spreadsheet would take for a formula claims a code.
    expect((await t.call('client', { method: 'PUT', url: '/v1/customers/=1+2', payload: {} })).statusCode).toBe(201);
    expect(
      (
        await t.call('client', {
          method: 'POST',
          url: '/v1/claims',
          payload: { code: 'SAFE0001', customer_id: '=1+2' },
        })
      ).statusCode,
    ).toBe(201);
    const exported = await t.call('admin', { method: 'GET', url: `/v1/imports/${done.id}/export?format=csv` });
    const [row] = parse(exported.body, { bom: true, from_line: 2 }) as string[][];
    expect(row![0]).toBe('SAFE0001');
    expect(row![5]).toBe("'=1+2");
    expect((await report(done.id)).map((r) => r[1])).toEqual(['\'=HYPERLINK("x")', "'@SUM(1)"]);
  });

  it('takes the one file of a multipart upload', async () => {
    const list = await newList();
    const form = new FormData();
    form.append('file', new Blob(['code\nMP-0001\nmp0002\nmp 0001\n'], { type: 'text/csv' }), 'codes.csv');
    const encoded = new Response(form);
    const res = await upload(list.id, Buffer.from(await encoded.arrayBuffer()), encoded.headers.get('content-type')!);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.data.total_lines).toBe(3);
    expect(await waitActive(res.data.id)).toMatchObject({ accepted: 2, rejected: 1 });
    expect(await report(res.data.id)).toEqual([[4, 'mp 0001', 'duplicate']]);

    const fieldOnly = new FormData();
    fieldOnly.append('note', 'no file here');
    const empty = new Response(fieldOnly);
    const refused = await upload(list.id, Buffer.from(await empty.arrayBuffer()), empty.headers.get('content-type')!);
    expect([refused.statusCode, refused.data.error.code]).toEqual([400, 'validation_failed']);
  });

  it('refuses a malformed or cut-short multipart upload with a 400, leaving nothing behind', async () => {
    const list = await newList();
    const part = '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="codes.csv"\r\n\r\n';
    const cases: [string, string][] = [
      ['multipart/form-data', 'CUT0001\n'], // no boundary
      ['multipart/form-data; boundary=b0undary', `${part}CUT0001\nCUT00`], // ends inside the file: must not hang
    ];
    for (const [type, body] of cases) {
      const res = await upload(list.id, body, type);
      expect([res.statusCode, res.data.error.code], type).toEqual([400, 'validation_failed']);
    }
    const complete = await upload(
      list.id,
      `${part}CUT0001\r\n--b0undary--\r\n`,
      'multipart/form-data; boundary=b0undary',
    );
    expect(complete.statusCode).toBe(202);
    expect((await t.pool.query('SELECT id FROM imports WHERE list_id = $1', [list.id])).rows).toEqual([
      { id: complete.data.id },
    ]);
    expect(await waitActive(complete.data.id)).toMatchObject({ total_lines: 1, accepted: 1 });
  });

  it('mails the notify addresses when done, with counts and no code', async () => {
    const list = await newList({ name: 'Partner drop list' });
    const done = await importAndWait(
      list.id,
      'MAILCODE1\nmail-code-2\nMAILCODE1\n',
      '?name=Partner%20drop&notify=ops@example.com,%20lead@example.com',
    );
    expect(done.notify).toEqual(['ops@example.com', 'lead@example.com']);
    const mail = await alertsTo(smtp.mails, 'Partner drop"', ['ops@example.com', 'lead@example.com'], 'promo.example');
    expect(mail.subject).toBe('Import "Partner drop" for "Partner drop list" is done');
    expect(mail.text).toContain('2 codes accepted, 1 rejected');
    expect(mail.text).toContain(
      `See the rejected rows in the dashboard: https://promo.example/lists/${list.id}?rejected=${done.id}`,
    );
    for (const code of ['MAILCODE1', 'MAILCODE2', 'mail-code-2'])
      expect(mail.text.toUpperCase()).not.toContain(code.toUpperCase());
  });

  it("lists a list's imports newest first and shows one import", async () => {
    const list = await newList();
    const first = await importAndWait(list.id, 'ORDER001\n', '?name=one');
    const second = await importAndWait(list.id, 'ORDER002\n', '?name=two');
    const page = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}/imports` });
    expect(page.statusCode).toBe(200);
    expect(page.data.items.map((i: { id: string; name: string }) => [i.id, i.name])).toEqual([
      [second.id, 'two'],
      [first.id, 'one'],
    ]);
    expect(page.data.next_cursor).toBeNull();
    const one = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}/imports?limit=1` });
    const two = await t.call('agent', {
      method: 'GET',
      url: `/v1/lists/${list.id}/imports?limit=1&cursor=${one.data.next_cursor}`,
    });
    expect([...one.data.items, ...two.data.items].map((i: { id: string }) => i.id)).toEqual([second.id, first.id]);
    expect(two.data.next_cursor).toBeNull();
    expect(await getImport(first.id)).toEqual(first);
    expect((await t.call('agent', { method: 'GET', url: '/v1/imports/999999' })).statusCode).toBe(404);
    expect((await t.call('agent', { method: 'GET', url: '/v1/lists/999999/imports' })).statusCode).toBe(404);
  });

  it('streams a 200,000-line upload end to end', async () => {
    const list = await newList();
    function* chunks() {
      yield 'code\n';
      for (let start = 0; start < 200_000; start += 1000) {
        yield Array.from({ length: 1000 }, (_, i) => `ST-${String(start + i).padStart(7, '0')}\n`).join('');
      }
    }
    const res = await upload(list.id, Readable.from(chunks()), 'text/csv');
    expect(res.statusCode, res.body).toBe(202);
    expect(res.data.total_lines).toBe(200_000);
    expect(await waitActive(res.data.id)).toMatchObject({ total_lines: 200_000, accepted: 200_000, rejected: 0 });
    const { rows } = await t.pool.query(
      'SELECT count(*)::int AS n, min(code) AS lo, max(code) AS hi FROM codes WHERE source_id = $1',
      [res.data.id],
    );
    expect(rows[0]).toEqual({ n: 200_000, lo: 'ST0000000', hi: 'ST0199999' });
    expect(await codeCount(list.id)).toBe(200_000);
  }, 180_000);
});

describe('refusals', () => {
  it('refuses other list types, completed and unknown lists', async () => {
    const single = await newList({ type: 'single_use' });
    const multi = await newList({ type: 'multi_use', code: 'NOIMPORT' });
    const ended = await newList({ starts_at: '2020-01-01T00:00:00Z', ends_at: '2020-02-01T00:00:00Z' });
    for (const [list, status, code] of [
      [single, 409, 'wrong_list_type'],
      [multi, 409, 'wrong_list_type'],
      [ended, 409, 'list_completed'],
    ] as const) {
      const res = await upload(list.id, 'CODE0001\n');
      expect([res.statusCode, res.data.error.code]).toEqual([status, code]);
      expect(await importRows(list.id)).toBe(0);
    }
    const unknown = await upload('999999', 'CODE0001\n');
    expect([unknown.statusCode, unknown.data.error.code]).toEqual([404, 'list_not_found']);
  });

  it('refuses bad bodies and bad notify addresses, in the error shape, leaving nothing behind', async () => {
    const list = await newList();
    const cases: [string, string, string][] = [
      ['JSON', 'application/json', '{"code":"JSON0001"}'],
      ['empty', 'text/plain', ''],
      ['blank lines only', 'text/plain', '\n \n\n'],
      ['header only', 'text/csv', 'code\n'],
    ];
    for (const [what, type, body] of cases) {
      const res = await upload(list.id, body, type);
      expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, what).toBeLessThan(500);
      expect(Object.keys(res.data.error), what).toEqual(expect.arrayContaining(['code', 'message']));
    }
    expect((await upload(list.id, '', 'text/plain')).statusCode).toBe(400);
    const badMail = await upload(list.id, 'MAIL0001\n', 'text/plain', '?notify=ops@example.com,not-an-email');
    expect(badMail.statusCode).toBe(400);
    expect(badMail.data.error.details).toEqual({
      fields: [{ path: 'querystring.notify', message: '"not-an-email" is not an email address' }],
    });
    expect((await upload(list.id, 'X0001\n', 'text/plain', '?colour=red')).statusCode).toBe(400);
    expect(await importRows(list.id)).toBe(0);
  });
});

describe('with MAX_CODES_PER_REQUEST=100', () => {
  const small = useTestApp({ MAX_CODES_PER_REQUEST: '100' });
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `LIM${String(i).padStart(6, '0')}`).join('\n');
  const counts = async () =>
    (
      await small.pool.query(
        'SELECT (SELECT count(*) FROM imports)::int AS imports, (SELECT count(*) FROM import_lines)::int AS lines',
      )
    ).rows[0];

  it('refuses an upload over the limit and leaves no import and no staged lines', async () => {
    const list = await fixtures(small, { list: LIST }).newList();
    for (const n of [101, 20_000]) {
      const res = await upload(list.id, lines(n), 'text/plain', '', small);
      expect(res.statusCode, `${n} lines`).toBe(400);
      expect(res.data.error.code).toBe('validation_failed');
      expect(res.data.error.details.fields[0].path).toBe('body');
      expect(await counts()).toEqual({ imports: 0, lines: 0 });
    }
    const atLimit = await upload(list.id, `code\n${lines(100)}\n\n`, 'text/csv', '', small);
    expect(atLimit.statusCode).toBe(202);
    expect(atLimit.data.total_lines).toBe(100);
    expect(await counts()).toEqual({ imports: 1, lines: 100 });
  });
});

describe('line endings', () => {
  it('reads bare-CR and CRLF line endings, even when a CRLF is split between two pieces of the upload', async () => {
    const list = await newList({ name: 'CR', outcome: { tags: ['cr'] } });
    const body = Readable.from([Buffer.from('CRCODE01\rCRCODE02\r'), Buffer.from('\nCRCODE03\r\nCRCODE04')]);
    const res = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.id}/imports`,
      headers: { 'content-type': 'text/plain' },
      payload: body,
    });
    expect(res.statusCode).toBe(202);
    expect(res.data.total_lines).toBe(4);
    // Staged or already moved into codes by a worker: one snapshot sees each line in one place.
    const { rows } = await t.pool.query(
      `SELECT code FROM import_lines WHERE import_id = $1
       UNION ALL SELECT code FROM codes WHERE source_id = $1 ORDER BY 1`,
      [res.data.id],
    );
    expect(rows.map((r) => r.code)).toEqual(['CRCODE01', 'CRCODE02', 'CRCODE03', 'CRCODE04']);
  });
});

describe('a line without end', () => {
  it('refuses a line over MAX_LINE_LENGTH with a 400 naming it, whether it ends or not, storing nothing', async () => {
    const list = await newList();
    const long = 'A'.repeat(2 * MAX_LINE_LENGTH);
    for (const [what, body] of [
      ['unended, 2 MB', `GOOD0001\n${'B'.repeat(2_000_000)}`],
      ['ended', `GOOD0001\n${long}\nGOOD0002\n`],
    ] as const) {
      const res = await upload(list.id, body);
      expect(res.statusCode, what).toBe(400);
      expect(res.data.error.code, what).toBe('validation_failed');
      expect(res.data.error.message, what).toContain('line 2 is longer than');
    }
    expect(await importRows(list.id)).toBe(0);
    // A line at the limit is read (and rejected as too long a code, not as a broken file).
    const atLimit = await upload(list.id, `GOOD0003\n${'C'.repeat(MAX_LINE_LENGTH)}\n`);
    expect(atLimit.statusCode, atLimit.body).toBe(202);
  });
});

describe('processing an upload that takes several chunks', () => {
  // The job takes up to a million lines per transaction; here it is run directly with chunks of
  // 4 lines, so that repeats, taken codes and the fallback from plain inserts cross chunks.
  const lines = [
    'chunk-01',
    'CHUNK02',
    '!!',
    'chunk 01',
    'CHUNK02',
    'taken0001',
    'CHUNK03',
    'taken-0001',
    'chunk03',
    'CHUNK04',
  ];
  const expected = [
    [3, '!!', 'invalid'],
    [4, 'chunk 01', 'duplicate'],
    [5, 'CHUNK02', 'duplicate'],
    [6, 'taken0001', 'code_taken'],
    [8, 'taken-0001', 'duplicate'],
    [9, 'chunk03', 'duplicate'],
  ];
  const staged = async (importId: string) =>
    (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM import_lines WHERE import_id = $1', [importId]))
      .rows[0]!.n;
  const stage = async (listId: string, body: string) => {
    const res = await upload(listId, body);
    expect(res.statusCode, res.body).toBe(202);
    return res.data.id as string;
  };

  it('gives the same answers as one chunk and removes only its own staged lines', async () => {
    const other = await newList();
    await t.pool.query("INSERT INTO codes (code, list_id, source_id) VALUES ('TAKEN0001', $1, 0)", [other.id]);
    const waiting = await stage(other.id, 'WAITING01\nWAITING02\nWAITING03\n');
    const list = await newList();
    const id = await stage(list.id, lines.join('\n'));

    // An open transaction that has read the staging table: the job cannot take it to truncate.
    const reader = await t.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM import_lines');
      await processImport(t.pool, id, undefined, 4);
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
    expect(await getImport(id)).toMatchObject({ status: 'active', total_lines: 10, accepted: 4, rejected: 6 });
    expect(await report(id)).toEqual(expected);
    expect((await storedCodes(id)).map((c) => c.code)).toEqual(['CHUNK01', 'CHUNK02', 'CHUNK03', 'CHUNK04']);
    expect(await codeCount(list.id)).toBe(4);
    expect([await staged(id), await staged(waiting)]).toEqual([0, 3]); // the other upload is still staged

    // The last import staged is alone in the table, which is then truncated (its file emptied).
    const pending = await t.pool.query<{ id: string }>("SELECT id FROM imports WHERE status = 'pending' ORDER BY id");
    expect(pending.rows.map((r) => r.id)).toContain(waiting);
    for (const { id: next } of pending.rows) await processImport(t.pool, next, undefined, 2);
    expect(await getImport(waiting)).toMatchObject({ status: 'active', accepted: 3, rejected: 0 });
    const table = await t.pool.query(
      "SELECT count(*)::int AS n, pg_relation_size('import_lines')::int AS bytes FROM import_lines",
    );
    expect(table.rows[0]).toEqual({ n: 0, bytes: 0 });

    const again = await newList();
    const whole = await stage(again.id, lines.map((l) => l.replace(/chunk/i, 'whole')).join('\n'));
    await processImport(t.pool, whole);
    expect(await getImport(whole)).toMatchObject({ status: 'active', accepted: 4, rejected: 6 });
    expect(await report(whole)).toEqual(
      expected.map(([line, value, reason]) => [line, String(value).replace(/chunk/i, 'whole'), reason]),
    );
  });
});
