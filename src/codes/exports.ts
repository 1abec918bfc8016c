// Streamed exports of codes as .csv or .xlsx, for a batch, an import or a whole list.
// PostgreSQL streams the rows with COPY TO STDOUT; CSV passes straight through, and for
// Excel each row goes to exceljs's streaming writer, a new sheet before the format's limit.
// Memory stays bounded: the COPY stream is only read as fast as the client takes the file.
import { PassThrough, Transform, type Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import { Type } from '@sinclair/typebox';
import { decodeRows } from '../db/copy-text';
import type { Pool } from '../db/pool';
import { MAX_ROWS_PER_SHEET, XlsxWriter, type XlsxColumn } from './xlsx';

export type ExportFormat = 'csv' | 'xlsx';

export const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' })) },
  { additionalProperties: false },
);

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const CSV_TYPE = 'text/csv; charset=utf-8';

const contentDisposition = {
  'content-disposition': {
    type: 'string',
    description: "attachment, with the file's name: `filename` in ASCII and `filename*` in UTF-8",
    example: `attachment; filename="Summer-sale_2026-12-04.csv"; filename*=UTF-8''Summer-sale_2026-12-04.csv`,
  },
} as const;

/** The 200 of an export, for the OpenAPI document: the file is streamed, never JSON. */
export const ExportFile = {
  description: 'The codes as a file, streamed: CSV (UTF-8 with BOM; `format=csv`) or an Excel workbook (`format=xlsx`)',
  headers: contentDisposition,
  content: {
    'text/csv': {
      schema: {
        type: 'string',
        example:
          'code,status,batch,batch_name,created_at,claimed_by,claimed_at\n' +
          'K7PXM2QD,claimed,12,Flyers,2026-12-01 09:00:00+00,c-1042,2026-12-03 18:21:07+00\n',
      },
    },
    [XLSX_TYPE]: { schema: { type: 'string', format: 'binary' } },
  },
};

/** The 200 of a CSV-only download (an import's rejected rows). */
export const CsvFile = (description: string, example: string) => ({
  description,
  headers: contentDisposition,
  content: { 'text/csv': { schema: { type: 'string', example } } },
});

/**
 * Marks a reply as a file download. The name is made of descriptive parts (list name, batch
 * name, date), each reduced to letters, digits, `.` and `-`; `filename*` carries it in UTF-8
 * and `filename` an ASCII form for older clients.
 */
export function attachment(
  reply: { header(name: string, value: string): unknown },
  parts: (string | null | undefined)[],
  format: ExportFormat,
) {
  reply.header('content-type', format === 'csv' ? CSV_TYPE : XLSX_TYPE);
  const name = fileName(parts);
  const ascii =
    name
      .normalize('NFKD')
      .replace(/[^\x20-\x7e]/g, '')
      .replace(/-{2,}/g, '-') || 'export';
  reply.header(
    'content-disposition',
    `attachment; filename="${ascii}.${format}"; filename*=UTF-8''${encodeURIComponent(`${name}.${format}`)}`,
  );
}

export function fileName(parts: (string | null | undefined)[]): string {
  const clean = parts
    .filter((part): part is string => Boolean(part))
    .map((part) =>
      part
        .normalize('NFKC')
        .replace(/[^\p{L}\p{N}.-]+/gu, '-')
        .replace(/^[-.]+|-+$/g, ''),
    )
    .filter(Boolean);
  return Array.from(clean.join('_')).slice(0, 120).join('') || 'export'; // by code point: a pair is never split
}

/** Today's date for a file name (UTC). */
export const today = () => new Date().toISOString().slice(0, 10);

/** A new sheet begins before Excel's limit of rows a sheet (the header is one of them). */
export const XLSX_ROWS_PER_SHEET = MAX_ROWS_PER_SHEET - 1;

export interface ExportScope {
  listId: string;
  /** a batch or import id; null for the whole list */
  sourceId: string | null;
  /** header of the batch/import column */
  sourceLabel: 'batch' | 'import' | 'source';
}

/**
 * A text cell a spreadsheet will not run as a formula (OWASP, CSV injection): one starting
 * with `=` `+` `-` `@`, a tab or a CR gets a leading `'`. For CSV only: .xlsx cells are typed
 * text and never formulas.
 */
export const csvSafe = (expr: string) =>
  `CASE WHEN left(${expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || ${expr} ELSE ${expr} END`;

/** A UTF-8 byte order mark: without it, Excel reads a CSV file in the system's code page. */
export const BOM = '\uFEFF';

/** `stream` with a byte order mark in front. */
export function withBom(stream: Readable): Readable {
  const out = new PassThrough();
  out.write(BOM);
  stream.on('error', (error) => out.destroy(error));
  out.on('close', () => stream.destroy());
  return stream.pipe(out);
}

/** The file's columns; `label` names the batch or import (or source) columns. */
const COLUMNS = (label: string): XlsxColumn[] => [
  { header: 'code', type: 'text', width: 18 },
  { header: 'status', type: 'text', width: 11 },
  { header: label, type: 'number', width: 10 },
  { header: `${label}_name`, type: 'text', width: 24 },
  { header: 'created_at', type: 'date', width: 20 },
  { header: 'claimed_by', type: 'text', width: 24 },
  { header: 'claimed_at', type: 'date', width: 20 },
];
const iso = (column: string) => `api_time(${column})`; // src/http/timestamps.functions.sql

// Rows come source by source, each in code order. The order is asked for, not assumed from
// storage: batches are loaded with COPY, which may place pages out of order when the free space
// map has some to offer, and a claimed or cancelled code moves to wherever its new row version
// fits. The sort adds ~0.4 s to a million-code .csv and ~1.2 s to an .xlsx (bench/generate).
function exportQuery(scope: ExportScope, format: ExportFormat): string {
  const text = format === 'csv' ? csvSafe : (expr: string) => expr;
  // COPY takes no bind parameters; both ids are checked to be integers before they get here.
  const listId = BigInt(scope.listId).toString();
  const source =
    scope.sourceId !== null
      ? `c.source_id = ${BigInt(scope.sourceId).toString()}`
      : `c.source_id IN (SELECT id FROM batches WHERE list_id = ${listId}
                         UNION ALL SELECT id FROM imports WHERE list_id = ${listId} UNION ALL SELECT 0)`;
  return `SELECT ${text('COALESCE(c.display, c.code)')},
                 CASE WHEN c.cancelled_at IS NOT NULL THEN 'cancelled'
                      WHEN c.claimed_at IS NOT NULL THEN 'claimed' ELSE 'available' END,
                 NULLIF(c.source_id, 0),
                 ${text('COALESCE(b.name, i.name)')},
                 ${iso('COALESCE(b.created_at, i.created_at, l.created_at)')},
                 ${text('c.claimed_by')},
                 ${iso('c.claimed_at')}
            FROM codes c
            JOIN lists l ON l.id = c.list_id
            LEFT JOIN batches b ON b.id = c.source_id
            LEFT JOIN imports i ON i.id = c.source_id
           WHERE ${source} AND c.list_id = ${listId}
           ORDER BY c.source_id, c.code`;
}

/**
 * COPY sends one message per row, and a stream chunk per message costs more than the row
 * itself; this gathers rows into pieces of ~256 KiB.
 */
function coalesce(size = 256 * 1024): Transform {
  let parts: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      length += chunk.length;
      if (length < size) return done();
      const piece = Buffer.concat(parts, length);
      parts = [];
      length = 0;
      done(null, piece);
    },
    flush(done) {
      done(null, length ? Buffer.concat(parts, length) : undefined);
    },
  });
}

/**
 * Runs `COPY (query) TO STDOUT` and returns its output in large pieces. The connection is held
 * until the output ends, and dropped (not reused) if the stream is destroyed mid-way.
 */
export async function copyOut(pool: Pool, query: string, options: string): Promise<Readable> {
  const client = await pool.connect();
  let released = false;
  const release = (broken: boolean) => {
    if (released) return;
    released = true;
    client.release(broken);
  };
  const copy = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (${options})`));
  copy.on('end', () => release(false));
  copy.on('error', () => release(true));
  copy.on('close', () => release(!copy.readableEnded));
  const pieces = copy.pipe(coalesce());
  copy.on('error', (error) => pieces.destroy(error));
  pieces.on('close', () => copy.destroy());
  return pieces;
}

/** The stream of a .csv or .xlsx file of the scope's codes. */
export async function exportCodes(
  pool: Pool,
  scope: ExportScope,
  format: ExportFormat,
  rowsPerSheet = XLSX_ROWS_PER_SHEET,
): Promise<Readable> {
  const rows = await copyOut(pool, exportQuery(scope, format), format === 'csv' ? 'FORMAT csv' : 'FORMAT text');
  const out = new PassThrough();
  out.on('close', () => rows.destroy());
  if (format === 'csv') {
    out.write(
      BOM +
        COLUMNS(scope.sourceLabel)
          .map((c) => c.header)
          .join(',') +
        '\n',
    );
    rows.on('error', (error) => out.destroy(error));
    rows.pipe(out);
  } else {
    writeWorkbook(rows, out, scope.sourceLabel, rowsPerSheet).catch((error: Error) => {
      rows.destroy();
      out.destroy(error);
    });
  }
  return out;
}

async function writeWorkbook(rows: Readable, out: PassThrough, label: string, rowsPerSheet: number): Promise<void> {
  const workbook = new XlsxWriter(out, COLUMNS(label), 'Codes', rowsPerSheet);
  for await (const decoded of decodeRows(rows)) {
    for (const row of decoded) {
      const full = workbook.addRow(row);
      if (full) await full;
    }
  }
  await workbook.finish();
}
