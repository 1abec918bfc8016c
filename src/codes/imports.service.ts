// Third-party codes: an upload (CSV, or one code per line) is streamed into a staging table
// with COPY, in the same transaction as the import row and its job, so that a 1M-line file
// never sits in memory and a failed upload leaves nothing behind. The job then moves the
// lines into codes (imports.job.ts).
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { DomainError, conflict, invalid, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import { enqueue } from '../jobs/queue';
import { findList } from '../lists/lists.sql';
import { isValidCode, normalizeCode } from './normalize';
import * as sql from './imports.sql';
import type { ImportQuery } from './imports.schema';

export const PROCESS_IMPORT = 'process_import';
const MAX_VALUE_LENGTH = 256;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

export async function createImport(tx: Tx, ctx: AuditContext, listId: string, query: ImportQuery, body: Readable, maxLines: number) {
  const notify = parseNotify(query.notify);
  await tx.query('SELECT 1 FROM lists WHERE id = $1 FOR SHARE', [listId]);
  const list = await findList(tx, listId);
  if (!list) throw notFound('list', listId);
  if (list.type !== 'third_party') throw conflict('wrong_list_type', `imports are for third_party lists; this list is ${list.type}`);
  if (list.status === 'completed') throw conflict('list_completed', `the list is completed (${list.completed_reason})`);

  const created = await sql.insertImport(tx, { listId, name: query.name ?? null, notify, createdBy: ctx.actor });
  const lines = await stageUpload(tx, created.id, body, maxLines);
  const imported = await sql.setTotalLines(tx, created.id, lines);
  await enqueue(tx, PROCESS_IMPORT, { import_id: created.id }, { jobKey: `import:${created.id}` });
  await recordAudit(tx, ctx, { action: 'import.create', entityType: 'import', entityId: created.id, after: imported });
  return imported;
}

function parseNotify(raw: string | undefined): string[] {
  const emails = [...new Set((raw ?? '').split(',').map((e) => e.trim()).filter(Boolean))];
  const bad = emails.filter((e) => !EMAIL.test(e) || e.length > 320);
  if (bad.length) throw invalid(bad.map((e) => ({ path: 'querystring.notify', message: `"${e}" is not an email address` })));
  if (emails.length > 20) throw invalid([{ path: 'querystring.notify', message: 'at most 20 addresses' }]);
  return emails;
}

/** COPY's text format: backslash, tab and line breaks escaped; NUL cannot be stored at all. */
const copyText = (value: string) =>
  value.replace(/\0/g, '').replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

async function stageUpload(tx: Tx, importId: string, body: Readable, maxLines: number): Promise<number> {
  let count = 0;
  let first = true;
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true, info: true });
  const toCopy = new Transform({
    writableObjectMode: true,
    transform(row: { record: string[]; info: { lines: number } }, _encoding, done) {
      const value = (row.record[0] ?? '').slice(0, MAX_VALUE_LENGTH + 1);
      const isHeader = first && /^codes?$/i.test(value);
      first = false;
      if (isHeader || value === '') return done();
      if (++count > maxLines) {
        return done(invalid([{ path: 'body', message: `more than ${maxLines} codes in one upload (MAX_CODES_PER_REQUEST)` }]));
      }
      const code = normalizeCode(value);
      const valid = value.length <= MAX_VALUE_LENGTH && isValidCode(code);
      done(null, `${importId}\t${row.info.lines}\t${copyText(value)}\t${valid ? code : '\\N'}\n`);
    },
  });
  const copy = tx.query(copyFrom('COPY import_lines (import_id, line, value, code) FROM STDIN'));
  try {
    await pipeline(body, parser, toCopy, copy);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const code = (error as { code?: string }).code;
    if (code?.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE') {
      throw invalid([{ path: 'body', message: `not readable as CSV: ${(error as Error).message}` }]);
    }
    throw error;
  }
  if (count === 0) throw invalid([{ path: 'body', message: 'the upload holds no codes' }]);
  return count;
}

export async function getImport(db: Queryable, id: string) {
  const found = await sql.findImport(db, id);
  if (!found) throw notFound('import', id);
  return found;
}

export async function listImports(db: Queryable, listId: string, query: { limit?: number; cursor?: string }) {
  const limit = query.limit ?? 100;
  if (!(await findList(db, listId))) throw notFound('list', listId);
  const before = (decodeCursor(query.cursor, ['id'])?.[0] as string | undefined) ?? null;
  return page(await sql.listImports(db, listId, before, limit + 1), limit, (row) => [row.id]);
}
