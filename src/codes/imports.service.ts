// Third-party codes: an upload (CSV, or one code per line) is streamed into a staging table
// with COPY, in the same transaction as the import row and its job, so that a 1M-line file
// never sits in memory and a failed upload leaves nothing behind. The job then moves the
// lines into codes (imports.job.ts).
import { StringDecoder } from 'node:string_decoder';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable, Tx } from '../db/pool';
import { recordAudit, type AuditContext } from '../audit/audit.service';
import { invalid, notFound } from '../http/errors';
import { decodeCursor, page } from '../http/pagination';
import { enqueue } from '../jobs/queue';
import { findList } from '../lists/lists.sql';
import { openListForCodes } from '../lists/lists.service';
import { isValidCode, normalizeCode } from './normalize';
import * as sql from './imports.sql';
import type { ImportQuery } from './imports.schema';

export const PROCESS_IMPORT = 'process_import';
const MAX_VALUE_LENGTH = 256;
/**
 * Longest line of an upload. A code is short, and a spreadsheet row holding one is far below
 * this; a line without end (a binary or corrupt file) is refused before it is held whole in memory.
 */
export const MAX_LINE_LENGTH = 65_536;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

export async function createImport(tx: Tx, ctx: AuditContext, listId: string, query: ImportQuery, body: Readable, maxLines: number) {
  const notify = parseNotify(query.notify);
  await openListForCodes(tx, listId, 'third_party', 'imports');

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

/**
 * COPY's text format: backslash, tab and line breaks escaped; NUL cannot be stored at all.
 * Most values hold none of them, and one test is much cheaper than two replacements.
 */
const COPY_SPECIAL = /[\0\\\t\n\r]/;
const copyText = (value: string) =>
  !COPY_SPECIAL.test(value)
    ? value
    : value.replace(/\0/g, '').replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

/**
 * The code on one line of an upload: the first CSV field, trimmed. A line without a quote is
 * cut at its first comma (the common case, and fast); a line with quotes goes to csv-parse.
 * A quoted field spanning lines is not supported: codes hold no line breaks.
 */
export function firstField(line: string): string {
  if (!line.includes('"')) {
    const comma = line.indexOf(',');
    return (comma < 0 ? line : line.slice(0, comma)).trim();
  }
  try {
    const rows = parse(line, { relax_quotes: true, relax_column_count: true, trim: true }) as string[][];
    return rows[0]?.[0] ?? '';
  } catch {
    return line.trim(); // unreadable: kept as it is, and rejected as invalid
  }
}

async function stageUpload(tx: Tx, importId: string, body: Readable, maxLines: number): Promise<number> {
  let count = 0;
  let lineNo = 0;
  let rest = '';
  const decoder = new StringDecoder('utf8');
  const toCopy = (text: string, final: boolean): string => {
    // Lines end in \n, \r\n or a bare \r; a \r at the end of a piece may be half of a \r\n.
    let combined = rest + text;
    const carry = !final && combined.endsWith('\r') ? '\r' : '';
    if (carry) combined = combined.slice(0, -1);
    const lines = combined.split(/\r\n|\r|\n/);
    rest = final ? '' : lines.pop()! + carry;
    if (rest.length > MAX_LINE_LENGTH) throw lineTooLong(lineNo + lines.length + 1);
    let out = '';
    for (const raw of lines) {
      lineNo++;
      if (raw.length > MAX_LINE_LENGTH) throw lineTooLong(lineNo);
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw; // byte order mark
      const value = firstField(line).slice(0, MAX_VALUE_LENGTH + 1);
      if (value === '' || (count === 0 && /^codes?$/i.test(value))) continue; // blank line, header (the first non-blank line)
      if (++count > maxLines) {
        throw invalid([{ path: 'body', message: `more than ${maxLines} codes in one upload (MAX_CODES_PER_REQUEST)` }]);
      }
      const code = normalizeCode(value);
      const valid = value.length <= MAX_VALUE_LENGTH && isValidCode(code);
      out += `${importId}\t${lineNo}\t${copyText(value)}\t${valid ? code : '\\N'}\n`;
    }
    return out;
  };
  const lines = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        done(null, toCopy(decoder.write(chunk), false));
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        done(null, toCopy(decoder.end(), true));
      } catch (error) {
        done(error as Error);
      }
    },
  });
  // A body destroyed before we read it (a multipart file whose upload was cut short while the
  // list was being checked) may never end nor fail: pipeline would wait on it forever, with
  // this transaction and its connection held open.
  if (body.destroyed) throw cutShort();
  try {
    await pipeline(body, lines, tx.query(copyFrom('COPY import_lines (import_id, line, value, code) FROM STDIN')));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || /unexpected end of multipart/i.test((error as Error).message)) {
      throw cutShort();
    }
    throw error;
  }
  if (count === 0) throw invalid([{ path: 'body', message: 'the upload holds no codes' }]);
  return count;
}

const lineTooLong = (line: number) =>
  invalid([{ path: 'body', message: `line ${line} is longer than ${MAX_LINE_LENGTH.toLocaleString('en-US')} characters; is this a text file of codes?` }]);

const cutShort = () => invalid([{ path: 'body', message: 'the upload ended before it was complete' }]);

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
