// Partners' files as spreadsheets save them: each form imports exactly its codes, a header is
// never a code, and what is not a text file or a workbook is refused whole. The text variants
// are written byte for byte as Excel and LibreOffice write them (BOM, CRLF, `;` in European
// locales, tab-delimited, UTF-16 "Unicode Text"); the workbooks come from exceljs and from
// LibreOffice (test/codes/fixtures/README.md says how each fixture was made).
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { createList } from '../support/fixtures';
import { useTestApp } from '../support/context';
import { eventually, useTestWorker } from '../support/worker';

const t = useTestApp();
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
useTestWorker(t);

const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return Buffer.concat([Buffer.from([0xfe, 0xff]), le]);
};
const bom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);

async function importFile(body: Buffer | string, query = '', type = 'text/csv') {
  const list = await createList(t, { name: 'Partner file', type: 'third_party', outcome: { tags: ['partner'] } });
  const res = await t.call('admin', {
    method: 'POST',
    url: `/v1/lists/${list.id}/imports${query}`,
    payload: body,
    headers: { 'content-type': type },
  });
  return { list, res };
}

async function importedCodes(body: Buffer | string, query = '', type = 'text/csv') {
  const { res } = await importFile(body, query, type);
  expect(res.statusCode, res.body).toBe(202);
  const done = await eventually(
    async () => {
      const { data } = await t.call('agent', { method: 'GET', url: `/v1/imports/${res.data.id}` });
      return data.status !== 'pending' && data;
    },
    30_000,
    'the import',
  );
  expect(done.status).toBe('active');
  const { rows } = await t.pool.query<{ code: string }>('SELECT code FROM codes WHERE source_id = $1 ORDER BY code', [
    res.data.id,
  ]);
  const report = (await t.call('agent', { method: 'GET', url: `/v1/imports/${res.data.id}/report` })).body
    .trim()
    .split('\n')
    .slice(1);
  return { codes: rows.map((r) => r.code), report, done };
}

/** The codes an import read: accepted, or refused only because an earlier test's import has them. */
async function readCodes(body: Buffer | string, type: string) {
  const { codes, report } = await importedCodes(body, '', type);
  const taken = report
    .filter((line) => line.includes(',code_taken,'))
    .map((line) => line.split(',')[1]!.replace(/[\s-]/g, '').toUpperCase());
  expect(report.filter((line) => !line.includes(',code_taken,'))).toEqual([]);
  return [...codes, ...taken].sort();
}

describe('text files as spreadsheets save them', () => {
  const cases: [string, Buffer | string, string, string[]][] = [
    [
      'Excel "CSV UTF-8": BOM, CRLF, a "Promo Code" header in the 2nd column',
      bom('Partner,Promo Code,Expires\r\nAcme,PC-0001,2027-01-01\r\nAcme,pc-0002,2027-01-01\r\n'),
      '',
      ['PC0001', 'PC0002'],
    ],
    [
      'Excel, European locale: semicolons, "Voucher" header',
      'Voucher;Value\r\nVCH0001;10,5\r\nVCH0002;3\r\n',
      '',
      ['VCH0001', 'VCH0002'],
    ],
    ['a sep=; first line', 'sep=;\r\nid;coupon_code\r\n1;SEP0001\r\n2;SEP0002\r\n', '', ['SEP0001', 'SEP0002']],
    ['Excel "Text (Tab delimited)"', 'id\tcoupon_code\r\n1\tTAB0001\r\n2\tTAB0002\r\n', '', ['TAB0001', 'TAB0002']],
    [
      'Excel "Unicode Text": UTF-16 LE with BOM, tabs',
      utf16le('Coupon\tNote\r\nUNI0001\tfirst\r\nUNI0002\tsecond\r\n'),
      '',
      ['UNI0001', 'UNI0002'],
    ],
    ['UTF-16 BE with BOM', utf16be('code\nUBE0001\nUBE0002\n'), '', ['UBE0001', 'UBE0002']],
    [
      'quoted fields and extra columns',
      '"id","Promo Code","note"\n"1","Q-0001","a, b"\n"2","Q-0002","say ""hi"""\n',
      '',
      ['Q0001', 'Q0002'],
    ],
    ['pipe-separated', 'code|batch\nPIPE0001|x\nPIPE0002|y\n', '', ['PIPE0001', 'PIPE0002']],
    ['bare CR line ends (old Mac Excel)', 'voucher code\rCR0001\rCR0002\r', '', ['CR0001', 'CR0002']],
    ['no header: the first column', 'NOHDR001,10\nNOHDR002,20\n', '', ['NOHDR001', 'NOHDR002']],
    ['?column= by number', '17,COL0001\n18,COL0002\n', '?column=2', ['COL0001', 'COL0002']],
    [
      '?column= by name',
      'serial,Partner Ref\nSER0001,REF0001\nSER0002,REF0002\n',
      '?column=partner_ref',
      ['REF0001', 'REF0002'],
    ],
    ['fullwidth letters fold into the alphabet', 'code\nＡＢＣ１２３\n', '', ['ABC123']],
    ['a title row above the header', 'Voucher list March\r\n\r\nPartner,Code\r\nAcme,TTL0001\r\n', '', ['TTL0001']],
    [
      'line ends mixed from line to line',
      'code\r\nMIX0001\nMIX0002\rMIX0003\r\n',
      '',
      ['MIX0001', 'MIX0002', 'MIX0003'],
    ],
    ['tabs, with commas inside the values and no header', 'TIE0001\t5,00\nTIE0002\t7,50\n', '', ['TIE0001', 'TIE0002']],
  ];
  for (const [what, body, query, expected] of cases) {
    it(`imports exactly the codes of ${what}`, async () => {
      const { codes, report } = await importedCodes(body, query);
      expect(codes).toEqual(expected);
      expect(report).toEqual([]);
    });
  }

  it('rejects codes outside A–Z and 0–9, with nothing of them claimable', async () => {
    const { codes, report, done } = await importedCodes('code\nGOOD0001\nÄPFEL001\nAB\ncode_with_underscore\n');
    expect(codes).toEqual(['GOOD0001']);
    expect(done).toMatchObject({ accepted: 1, rejected: 3 });
    expect(report).toEqual([
      '3,ÄPFEL001,invalid,bad_characters,',
      '4,AB,invalid,too_short,',
      '5,code_with_underscore,invalid,bad_characters,',
    ]);
  });

  it('lists rejected rows as JSON, keyset-paged, with the detail and the line a duplicate repeats', async () => {
    const long = 'L'.repeat(65);
    const { done } = await importedCodes(`code\nREP0001\nrep-0001\nX\n${long}\nREP 0001\n`);
    const first = await t.call('agent', { method: 'GET', url: `/v1/imports/${done.id}/rejections?limit=2` });
    expect(first.statusCode).toBe(200);
    expect(first.data.items).toEqual([
      { line: 3, value: 'rep-0001', reason: 'duplicate', detail: null, repeats_line: 2 },
      { line: 4, value: 'X', reason: 'invalid', detail: 'too_short', repeats_line: null },
    ]);
    const rest = await t.call('agent', {
      method: 'GET',
      url: `/v1/imports/${done.id}/rejections?limit=2&cursor=${first.data.next_cursor}`,
    });
    expect(rest.data).toEqual({
      items: [
        { line: 5, value: long, reason: 'invalid', detail: 'too_long', repeats_line: null },
        { line: 6, value: 'REP 0001', reason: 'duplicate', detail: null, repeats_line: 2 },
      ],
      next_cursor: null,
    });
  });

  it('numbers rows by their line in the file, across blank lines and a quoted field spanning lines', async () => {
    const { report } = await importedCodes('code,note\r\n\r\nLN0001,"two\r\nlines"\r\nLN0002,x\r\nLN0001,again\r\n');
    expect(report).toEqual(['6,LN0001,duplicate,,3']);
  });

  it('names the header it looked for when ?column= names none of the first row', async () => {
    const { res } = await importFile('serial,value\nA0001,1\n', '?column=voucher');
    expect(res.statusCode).toBe(400);
    expect(res.data.error.details.fields[0].path).toBe('querystring.column');
  });
});

describe('workbooks', () => {
  it('reads the first sheet of an .xlsx from exceljs, by the header, whatever the content type', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Codes');
    sheet.addRow(['Partner', 'Coupon Code', 'Value']);
    sheet.addRow(['Acme', 'XLS-0001', 10]);
    sheet.addRow(['Acme', { richText: [{ text: 'XLS' }, { text: '-0002', font: { bold: true } }] }, 20]);
    sheet.addRow(['Acme', 12345678, 30]); // a numeric code, as a spreadsheet keeps it
    workbook.addWorksheet('Other').addRows([['code'], ['NOTREAD1']]); // only the first sheet is read
    const body = Buffer.from(await workbook.xlsx.writeBuffer());
    for (const type of ['application/octet-stream', 'text/csv']) {
      expect(await readCodes(body, type), type).toEqual(['12345678', 'XLS0001', 'XLS0002']);
    }
  });

  it('rejects numbers Excel did not keep whole, and refuses a workbook cut short, storing nothing', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Codes');
    // biome-ignore lint/correctness/noPrecisionLoss: a spreadsheet holds this number as a double, as here
    sheet.addRows([['code'], [12345678901], [1234567890123456789], [12.5]]);
    const body = Buffer.from(await workbook.xlsx.writeBuffer());
    const { codes, report } = await importedCodes(body, '', 'application/octet-stream');
    expect(codes).toEqual(['12345678901']);
    expect(report.map((line) => line.split(',').slice(2, 4).join(','))).toEqual([
      'invalid,bad_characters',
      'invalid,bad_characters',
    ]);

    const { list, res } = await importFile(
      body.subarray(0, Math.floor(body.length / 2)),
      '',
      'application/octet-stream',
    );
    expect(res.statusCode, res.body).toBe(400);
    expect(res.data.error.code).toBe('unsupported_file');
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM imports WHERE list_id = $1', [list.id]);
    expect(rows[0].n).toBe(0);
  });

  it('survives a workbook upload cut off mid-way: no import, no transaction left open, the process up', async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const list = await createList(t, { name: 'Cut workbook', type: 'third_party', outcome: { tags: ['cut'] } });
      const workbook = new ExcelJS.Workbook();
      workbook
        .addWorksheet('Codes')
        .addRows([['code'], ...Array.from({ length: 20_000 }, (_, i) => [`CUT${String(i).padStart(6, '0')}`])]);
      const body = Buffer.from(await workbook.xlsx.writeBuffer());
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST /v1/lists/${list.id}/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.keys.admin}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body.subarray(0, Math.floor(body.length / 2)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.destroy();
      // No transaction left open for the upload (the worker's LISTEN connections stay out of the pool).
      const open = async () =>
        Number(
          (
            await t.pool.query(
              `SELECT count(*) AS n FROM pg_stat_activity
                WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
            )
          ).rows[0].n,
        );
      await eventually(async () => (await open()) === 0, 10_000, 'the upload transaction to end');
      const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM imports WHERE list_id = $1', [list.id]);
      expect(rows[0].n).toBe(0);
      expect((await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}` })).statusCode).toBe(200);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
    }
  });

  // The same sheet (a "Voucher Code" column between two others) as LibreOffice Calc saves it.
  for (const [file, type] of [
    ['libreoffice.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['libreoffice-semicolon.csv', 'text/csv'],
    ['libreoffice-unicode-tab.txt', 'text/plain'],
  ] as const) {
    it(`reads ${file}, saved by LibreOffice Calc`, async () => {
      expect(await readCodes(readFileSync(path.join(FIXTURES, file)), type)).toEqual(['LO0001', 'LO0002', 'LO0003']);
    });
  }
});

describe('files that are not text', () => {
  const junk: [string, Buffer][] = [
    ['random bytes', randomBytes(4096)],
    ['a PDF', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(512)])],
    ['a PNG', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(512)])],
    ['an old .xls', Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), randomBytes(512)])],
    ['a zip that is no workbook', readFileSync(path.join(FIXTURES, 'not-a-workbook.zip'))],
    ['text with a NUL byte', Buffer.from('CODE0001\nCODE\u00000002\n')],
    ['text with a NUL byte past the first 4 KiB', Buffer.from(`${'FINE0001\n'.repeat(2000)}BAD\u00000001\n`)],
  ];
  for (const [what, body] of junk) {
    it(`refuses ${what} with 400 unsupported_file and stores nothing`, async () => {
      const { list, res } = await importFile(body, '', 'application/octet-stream');
      expect(res.statusCode, res.body).toBe(400);
      expect(res.data.error.code).toBe('unsupported_file');
      const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM imports WHERE list_id = $1', [list.id]);
      expect(rows[0].n).toBe(0);
    });
  }
});
