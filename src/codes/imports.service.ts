// Third-party codes: an upload (CSV, or one code per line) is streamed into a staging table
// with COPY, in the same transaction as the import row and its job, so that a 1M-line file
// never sits in memory and a failed upload leaves nothing behind. The job then moves the
// lines into codes (imports.job.ts).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { encodeField } from '../db/copy-text';
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { invalid, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import { jobKey } from '../jobs/queue';
import { findList } from '../lists/lists.sql';
import { openListForCodes } from '../lists/lists.service';
import { processImportJob } from './imports.job';
import { codeProblem, normalizeCode } from './normalize';
import { readUpload } from './upload';
import * as sql from './imports.sql';
import type { ImportQuery } from './imports.schema';
import { pageSize } from '../http/schemas';

const MAX_VALUE_LENGTH = 256;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

export async function createImport(
  tx: Tx,
  ctx: AuditContext,
  listId: string,
  query: ImportQuery,
  body: Readable,
  maxLines: number,
) {
  const notify = parseNotify(query.notify);
  await openListForCodes(tx, listId, 'third_party', 'imports');

  const created = await sql.insertImport(tx, { listId, name: query.name ?? null, notify, createdBy: ctx.actor });
  const lines = await stageUpload(tx, created.id, body, maxLines, query.column);
  const imported = await sql.setTotalLines(tx, created.id, lines);
  await processImportJob.enqueue(tx, { import_id: created.id }, { jobKey: jobKey('import', created.id) });
  await recordAudit(tx, ctx, { action: 'import.create', entityType: 'import', entityId: created.id, after: imported });
  return imported;
}

function parseNotify(raw: string | undefined): string[] {
  const emails = [
    ...new Set(
      (raw ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    ),
  ];
  const bad = emails.filter((e) => !EMAIL.test(e) || e.length > 320);
  if (bad.length)
    throw invalid(bad.map((e) => ({ path: 'querystring.notify', message: `"${e}" is not an email address` })));
  if (emails.length > 20) throw invalid([{ path: 'querystring.notify', message: 'at most 20 addresses' }]);
  return emails;
}

async function stageUpload(
  tx: Tx,
  importId: string,
  body: Readable,
  maxLines: number,
  column: string | undefined,
): Promise<number> {
  let count = 0;
  async function* copyRows() {
    for await (const rows of readUpload(body, { column })) {
      count += rows.length;
      if (count > maxLines) {
        throw invalid([{ path: 'body', message: `more than ${maxLines} codes in one upload (MAX_CODES_PER_REQUEST)` }]);
      }
      let out = '';
      for (const { line, value } of rows) {
        const code = normalizeCode(value);
        // A tab or line break inside a value is two values glued together, not spacing to drop.
        const problem =
          value.length > MAX_VALUE_LENGTH ? 'too_long' : /[\t\r\n]/.test(value) ? 'bad_characters' : codeProblem(code);
        // One template per row rather than encodeRow's array: this runs for every line of the upload.
        const kept = encodeField(value.slice(0, MAX_VALUE_LENGTH + 1));
        out += `${importId}\t${line}\t${kept}\t${encodeField(problem ? null : code)}\t${encodeField(problem)}\n`;
      }
      yield out;
    }
  }
  // A body destroyed before we read it (a multipart file whose upload was cut short while the
  // list was being checked) may never end nor fail: reading it would wait forever, with this
  // transaction and its connection held open.
  if (body.destroyed) throw cutShort();
  try {
    await pipeline(
      Readable.from(copyRows()),
      tx.query(copyFrom('COPY import_lines (import_id, line, value, code, problem) FROM STDIN')),
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      code === 'ERR_STREAM_PREMATURE_CLOSE' ||
      code === 'ECONNRESET' ||
      /unexpected end of multipart/i.test((error as Error).message)
    ) {
      throw cutShort();
    }
    throw error;
  }
  if (count === 0) throw invalid([{ path: 'body', message: 'the upload holds no codes' }]);
  return count;
}

const cutShort = () => invalid([{ path: 'body', message: 'the upload ended before it was complete' }]);

export async function getImport(db: Queryable, id: string) {
  const found = await sql.findImport(db, id);
  if (!found) throw notFound('import', id);
  return found;
}

export async function listImports(db: Queryable, listId: string, query: { limit?: number; cursor?: string }) {
  const limit = pageSize(query);
  if (!(await findList(db, listId))) throw notFound('list', listId);
  const before = (decodeCursor(query.cursor, ['id'])?.[0] as string | undefined) ?? null;
  return page(await sql.listImports(db, listId, before, limit + 1), limit, (row) => [row.id]);
}

export async function listRejections(db: Queryable, importId: string, query: { limit?: number; cursor?: string }) {
  const limit = pageSize(query);
  await getImport(db, importId);
  const after = (decodeCursor(query.cursor, ['number'])?.[0] as number | undefined) ?? null;
  return page(await sql.listRejections(db, importId, after, limit + 1), limit, (row) => [row.line]);
}
