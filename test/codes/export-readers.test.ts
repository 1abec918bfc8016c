// Exports read back by a spreadsheet reader nobody here wrote: openpyxl (Debian's
// python3-openpyxl, installed by .ci/run). Typed dates and ids, the header, the row count, a
// frozen header and a filter, and not one formula cell, even for a customer named like one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createList, registerCustomer } from '../support/fixtures';
import { useTestApp } from '../support/context';
import { eventually, useTestWorker } from '../support/worker';

const PYTHON = '/usr/bin/python3';
const hasOpenpyxl =
  existsSync(PYTHON) &&
  (() => {
    try {
      execFileSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
// CI installs it; elsewhere the file is skipped with a reason rather than failing.
if (process.env.CI && !hasOpenpyxl) throw new Error('openpyxl is missing: apt-get install python3-openpyxl');

const READ = `
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
rows = list(ws.iter_rows())
print(json.dumps({
  "sheets": wb.sheetnames,
  "header": [c.value for c in rows[0]],
  "header_bold": all(c.font.bold for c in rows[0]),
  "rows": ws.max_row,
  "frozen": ws.freeze_panes,
  "filter": ws.auto_filter.ref,
  "types": [type(c.value).__name__ for c in rows[1]],
  "formulas": sum(1 for r in rows for c in r if c.data_type == "f"),
  "claimed_by": [r[5].value for r in rows[1:] if r[5].value is not None],
}))
`;

const t = useTestApp();
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'promo-readers-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
useTestWorker(t);

describe.skipIf(!hasOpenpyxl)('an .xlsx export in openpyxl', () => {
  it('has typed cells, a bold frozen header, a filter and no formula', async () => {
    const list = await createList(t, { name: 'Readers', type: 'single_use', outcome: { tags: ['r'] } });
    const created = await t.call('admin', {
      method: 'POST',
      url: `/v1/lists/${list.id}/batches`,
      payload: { count: 300, name: 'Box' },
    });
    await eventually(
      async () =>
        (await t.call('agent', { method: 'GET', url: `/v1/batches/${created.data.id}` })).data.status === 'active',
      30_000,
      'the batch',
    );
    const { data } = await t.call('agent', { method: 'GET', url: `/v1/lists/${list.id}/codes?limit=1` });
    await registerCustomer(t, '=1+2');
    expect(
      (
        await t.call('client', {
          method: 'POST',
          url: '/v1/claims',
          payload: { code: data.items[0].code, customer_id: '=1+2' },
        })
      ).statusCode,
    ).toBe(201);

    const xlsx = await t.call('admin', { method: 'GET', url: `/v1/batches/${created.data.id}/export?format=xlsx` });
    expect(xlsx.statusCode).toBe(200);
    const file = path.join(dir, 'export.xlsx');
    await writeFile(file, xlsx.rawPayload);
    const read = JSON.parse(execFileSync(PYTHON, ['-c', READ, file], { encoding: 'utf8' }));
    expect(read).toMatchObject({
      sheets: ['Codes'],
      header: ['code', 'status', 'batch', 'batch_name', 'created_at', 'claimed_by', 'claimed_at'],
      header_bold: true,
      rows: 301,
      frozen: 'A2',
      filter: 'A1:G301',
      formulas: 0,
      claimed_by: ['=1+2'], // text in a text cell: shown, never run
    });
    // The claimed code sorts anywhere; any unclaimed row has these types.
    expect(read.types.slice(0, 5)).toEqual(['str', 'str', 'int', 'str', 'datetime']);
  });
});
