// Reading an upload of third-party codes as spreadsheets and partners' systems save it:
// - text: UTF-8 (with or without BOM) or UTF-16 LE/BE (by BOM); `,` `;` tab or `|` separated,
//   sniffed from the first lines or named by a `sep=` first line; quoted fields; any line end;
// - an .xlsx workbook (by its content, whatever the content type says): its first sheet;
// - anything else (other binary formats, NUL or control bytes) is refused as unsupported_file.
// A row naming a code column (code, promo code, coupon, voucher, …) among the first ten is the
// header (rows above it are titles), and the column of that name is the one read wherever it
// stands; `?column=` picks one by name or 1-based number; otherwise the first column is the
// code. A header is never a code.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { DomainError, invalid } from '../http/errors';

/** One code-bearing row: its line (text) or row (xlsx) number and the raw value read. */
export interface UploadRow {
  line: number;
  value: string;
}

/**
 * Longest line (or record) of an upload. A code is short, and a spreadsheet row holding one is
 * far below this; a line without end (a corrupt file) is refused before it is held whole.
 */
export const MAX_LINE_LENGTH = 65_536;

/** Largest .xlsx upload: a million codes take ~20 MB. */
const MAX_WORKBOOK_BYTES = 256 * 1024 * 1024;

/** Passes bytes through until `limit`, then fails: an upload is not stored without bound. */
function capped(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit)
        return done(invalid([{ path: 'body', message: `an .xlsx upload may hold at most ${limit / 1024 / 1024} MB` }]));
      done(null, chunk);
    },
  });
}

/** Header names of a code column, compared without case, spaces, `_` and `-`. */
const CODE_HEADERS = new Set(
  [
    'code',
    'promo code',
    'promotion code',
    'coupon',
    'coupon code',
    'voucher',
    'voucher code',
    'discount code',
    'gift code',
    'redemption code',
    'promo',
  ]
    .flatMap((name) => [name, `${name}s`])
    .map((name) => headerKey(name)),
);

function headerKey(cell: string): string {
  return cell
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
}

const unsupportedFile = (what: string) =>
  new DomainError(
    'unsupported_file',
    `${what}: upload a text file of codes (CSV or one per line) or an .xlsx workbook`,
  );

const lineTooLong = (line: number) =>
  invalid([
    {
      path: 'body',
      message:
        `line ${line} is longer than ${MAX_LINE_LENGTH.toLocaleString('en-US')} characters; ` +
        'is this a text file of codes?',
    },
  ]);

/** Binary formats recognised by their first bytes, to say what was sent. */
const MAGIC: [string, number[]][] = [
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['an old Excel (.xls) or Office document', [0xd0, 0xcf, 0x11, 0xe0]],
  ['a gzip file', [0x1f, 0x8b]],
];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (head: Buffer, bytes: number[]) => bytes.every((b, i) => head[i] === b);

// Bytes no text file holds: NUL and the C0 controls but tab, line feed, form feed and CR.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/;

/**
 * The first pieces of a stream, at least `size` bytes or characters of them (fewer if it ends
 * first), and the stream whole again: the pieces are put back in front.
 */
async function peek<T extends Buffer | string>(
  source: Readable,
  size: number,
): Promise<{ pieces: T[]; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]();
  const pieces: T[] = [];
  for (let length = 0; length < size; ) {
    const next = await iterator.next();
    if (next.done) break;
    pieces.push(next.value as T);
    length += (next.value as T).length;
  }
  async function* all() {
    yield* pieces;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as T;
    }
  }
  return { pieces, stream: Readable.from(all(), { objectMode: false }) };
}

export interface UploadOptions {
  /** The code column: a header name, or a 1-based number. */
  column?: string;
}

/** The rows of an upload, in order, with blank values left out. */
export async function* readUpload(body: Readable, options: UploadOptions = {}): AsyncGenerator<UploadRow[]> {
  const { pieces, stream } = await peek<Buffer>(body, 4096);
  const head = Buffer.concat(pieces.map((piece) => (Buffer.isBuffer(piece) ? piece : Buffer.from(piece))));
  if (head.length === 0) return;
  const known = MAGIC.find(([, bytes]) => startsWith(head, bytes));
  if (known) throw unsupportedFile(`the file is ${known[0]}`);
  if (startsWith(head, ZIP)) {
    // A zip is read from a file: its parts come in any order (a sheet may come before the
    // strings it uses), and a body that fails or ends early fails the copy here, plainly.
    const folder = await mkdtemp(path.join(tmpdir(), 'promo-upload-'));
    try {
      const file = path.join(folder, 'upload.xlsx');
      await pipeline(stream, capped(MAX_WORKBOOK_BYTES), createWriteStream(file));
      yield* readWorkbook(file, options);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    return;
  }
  const encoding =
    head[0] === 0xff && head[1] === 0xfe ? 'utf-16le' : head[0] === 0xfe && head[1] === 0xff ? 'utf-16be' : 'utf-8';
  const decoded = decoder(encoding);
  stream.on('error', (error) => decoded.destroy(error)); // a cut-short upload
  yield* readText(stream.pipe(decoded), options);
}

/** Bytes to text, the BOM dropped; a control byte anywhere refuses the whole file. */
function decoder(encoding: 'utf-8' | 'utf-16le' | 'utf-16be'): Transform {
  const decode = encoding === 'utf-16be' ? new TextDecoder('utf-16be') : null;
  const strings = decode ? null : new StringDecoder(encoding === 'utf-8' ? 'utf8' : 'utf16le');
  let first = true;
  const check = (text: string) => {
    if (first && text.length) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (CONTROL.test(text)) throw unsupportedFile('the file holds bytes no text file has (NUL or control characters)');
    return text;
  };
  return new Transform({
    decodeStrings: true,
    transform(chunk: Buffer, _encoding, done) {
      try {
        done(null, check(decode ? decode.decode(chunk, { stream: true }) : strings!.write(chunk)));
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        done(null, check(decode ? decode.decode() : strings!.end()));
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

// On a tie the rarer separator wins: a tab or `;` file may hold commas in its values (`5,00`).
const DELIMITERS = ['\t', ';', '|', ','];

/** The separator of the first lines: the candidate found the same number of times on most of them. */
function sniffDelimiter(sample: string): string {
  const lines = sample.split(/\r\n|\r|\n/).slice(0, 20);
  if (lines.length > 1) lines.pop(); // the last may be cut
  let best = { delimiter: ',', score: 0 };
  for (const delimiter of DELIMITERS) {
    const counts = lines.filter((l) => l.trim() !== '').map((line) => countOutsideQuotes(line, delimiter));
    const tally = new Map<number, number>();
    for (const n of counts) if (n > 0) tally.set(n, (tally.get(n) ?? 0) + 1);
    const score = Math.max(0, ...tally.values());
    if (score > best.score) best = { delimiter, score }; // the first of a tie, in the order above
  }
  return best.delimiter;
}

function countOutsideQuotes(line: string, delimiter: string): number {
  let quoted = false;
  let count = 0;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === delimiter && !quoted) count++;
  }
  return count;
}

/** Rows above the header looked through for it: a title or a note may come first. */
const HEADER_SEARCH_ROWS = 10;

/**
 * Picks the code column from the first rows, then each row's value. A row naming a code column
 * (or the `?column=` name) within the first rows is the header: it and any title rows above it
 * are no codes. Without one the column is `?column=`'s number, or the first.
 */
class CodeColumn {
  private index: number | null = null;
  private waiting: { line: number; cells: string[] }[] = [];

  constructor(private readonly option: string | undefined) {
    if (option !== undefined && /^\d+$/.test(option) && Number(option) < 1) {
      throw invalid([{ path: 'querystring.column', message: 'columns are numbered from 1' }]);
    }
  }

  private get numbered(): number | null {
    return this.option !== undefined && /^\d+$/.test(this.option) ? Number(this.option) - 1 : null;
  }

  /** The chosen column, once known: rows then go straight to `valueIn`. */
  get chosen(): number | null {
    return this.index;
  }

  /** Takes the next non-blank row while the column is not chosen; returns the rows now known to hold codes. */
  push(line: number, cells: string[]): UploadRow[] {
    if (this.index !== null) return this.value(line, cells);
    const keys = cells.map(headerKey);
    const named =
      this.option !== undefined && this.numbered === null
        ? keys.indexOf(headerKey(this.option))
        : keys.findIndex((key) => CODE_HEADERS.has(key));
    if (named >= 0) {
      this.index = this.numbered ?? named;
      this.waiting = []; // title rows above the header
      return [];
    }
    this.waiting.push({ line, cells });
    return this.waiting.length < HEADER_SEARCH_ROWS ? [] : this.withoutHeader();
  }

  /** At the end of the file: the rows still waiting for a header that never came. */
  end(): UploadRow[] {
    return this.index === null ? this.withoutHeader() : [];
  }

  private withoutHeader(): UploadRow[] {
    if (this.option !== undefined && this.numbered === null) {
      const first = this.waiting[0]?.cells ?? [];
      throw invalid([
        {
          path: 'querystring.column',
          message:
            `no row among the first ${HEADER_SEARCH_ROWS} names a column ${JSON.stringify(this.option)} ` +
            `(the first row has ${first.map((c) => JSON.stringify(c)).join(', ')})`,
        },
      ]);
    }
    this.index = this.numbered ?? 0;
    const rows = this.waiting.flatMap(({ line, cells }) => this.value(line, cells));
    this.waiting = [];
    return rows;
  }

  private value(line: number, cells: string[]): UploadRow[] {
    const value = (cells[this.index!] ?? '').trim();
    return value === '' ? [] : [{ line, value }];
  }
}

/** Rows are handed on in groups: one await per group, not per row. */
const GROUP = 1000;

async function* readText(text: Readable, options: UploadOptions): AsyncGenerator<UploadRow[]> {
  const { pieces, stream } = await peek<string>(text, 8192);
  const sample = pieces.join('');
  const sep = /^sep=(.)\s*(?:\r\n|\r|\n|$)/i.exec(sample);
  const delimiter = sep ? sep[1]! : sniffDelimiter(sample);
  const parser = stream.pipe(
    parse({
      delimiter,
      from_line: sep ? 2 : 1,
      // Any line end on any line: files edited in several programs mix them.
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_quotes: true,
      relax_column_count: true,
      max_record_size: MAX_LINE_LENGTH,
      // Line numbers come from each record's raw text: csv-parse's `info` costs ~6 µs a record
      // (6 s a million), `raw` a tenth of that. Blank lines are kept as records for the count.
      raw: true,
    }),
  );
  stream.on('error', (error) => parser.destroy(error));
  const column = new CodeColumn(options.column);
  let group: UploadRow[] = [];
  let line = sep ? 1 : 0; // the line the previous record ended on
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const start = line + 1; // a record is numbered by the line it starts on
      line = start + lineBreaksWithin(raw);
      const chosen = column.chosen;
      if (chosen !== null) {
        // The common case, a row at a time: no array per row.
        const value = (record[chosen] ?? '').trim();
        if (value !== '') group.push({ line: start, value });
      } else if (!record.every((cell) => cell.trim() === '')) {
        for (const row of column.push(start, record)) group.push(row);
      }
      if (group.length >= GROUP) {
        yield group;
        group = [];
      }
    }
  } catch (error) {
    throw csvError(error);
  }
  group.push(...column.end());
  if (group.length) yield group;
}

/** Line breaks inside a record (a quoted field spanning lines), not the one ending it. */
function lineBreaksWithin(raw: string): number {
  // csv-parse's raw text ends with the first character of the line end that ends the record.
  const body = raw.endsWith('\r') || raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  if (!body.includes('\n') && !body.includes('\r')) return 0;
  return body.match(/\r\n|\r|\n/g)!.length;
}

function csvError(error: unknown): unknown {
  const e = error as { code?: string; lines?: number };
  if (e.code === 'CSV_MAX_RECORD_SIZE') return lineTooLong(e.lines ?? 0);
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
    return invalid([{ path: 'body', message: `a quoted field opened by line ${e.lines ?? '?'} is never closed` }]);
  }
  if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
    return invalid([{ path: 'body', message: `not a readable CSV file: ${(error as Error).message}` }]);
  }
  return error;
}

/**
 * Reads the workbook, once more if exceljs's streaming reader could not read it before any row
 * came out: under load it now and then misses a part of the archive (exceljs#683, #3064: the
 * shared strings, or the workbook part), and the same file reads well the second time.
 */
async function* readWorkbook(file: string, options: UploadOptions): AsyncGenerator<UploadRow[]> {
  for (let attempt = 1; ; attempt++) {
    let read = false;
    try {
      for await (const group of readWorkbookOnce(file, options)) {
        read = true;
        yield group;
      }
      return;
    } catch (error) {
      if (!(error instanceof UnreadWorkbook)) throw error;
      if (read || attempt === 2) throw error.refusal;
    }
  }
}

/** exceljs failed on the archive, or left a cell unresolved; `refusal` is what the caller sees. */
class UnreadWorkbook extends Error {
  constructor(readonly refusal: DomainError) {
    super(refusal.message);
  }
}

async function* readWorkbookOnce(file: string, options: UploadOptions): AsyncGenerator<UploadRow[]> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(file, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  const column = new CodeColumn(options.column);
  let group: UploadRow[] = [];
  let sheets = 0;
  try {
    for await (const sheet of workbook) {
      // Only the first sheet is read; the others are still iterated to the end, so that exceljs
      // removes the temporary files it keeps for sheets that come before their strings.
      if (sheets++ > 0) {
        for await (const _row of sheet);
        continue;
      }
      for await (const row of sheet) {
        const cells = (row.values as unknown[]).slice(1).map(cellText);
        if (cells.every((c) => c === '')) continue;
        if (cells.some((c) => c.length > MAX_LINE_LENGTH)) throw lineTooLong(row.number);
        for (const found of column.push(row.number, cells)) group.push(found);
        if (group.length >= GROUP) {
          yield group;
          group = [];
        }
      }
    }
    group.push(...column.end());
  } catch (error) {
    if (error instanceof DomainError || error instanceof UnreadWorkbook) throw error;
    throw new UnreadWorkbook(
      unsupportedFile(`the file is a zip archive but not a readable .xlsx workbook (${(error as Error).message})`),
    );
  }
  if (sheets === 0) throw unsupportedFile('the file is a zip archive but not an .xlsx workbook');
  if (group.length) yield group;
}

/**
 * A cell as the text a person sees in it: whole numbers in full, formulas by their result,
 * rich text joined. A number that is not a whole one Excel holds exactly (a truncated card
 * number, 1E+400) keeps a form outside the code alphabet, so that it is rejected as invalid.
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return String(value);
    return Number.isFinite(value) ? value.toExponential() : '#NUM!'; // digits Excel did not keep
  }
  if (typeof value === 'boolean') return String(value).toUpperCase();
  if (value instanceof Date) return value.toISOString();
  const cell = value as {
    richText?: { text: string }[];
    text?: unknown;
    result?: unknown;
    error?: string;
    sharedString?: number;
  };
  if (cell.richText)
    return cell.richText
      .map((part) => part.text)
      .join('')
      .trim();
  if (cell.result !== undefined) return cellText(cell.result);
  if (cell.text !== undefined) return cellText(cell.text);
  if (cell.error !== undefined) return cell.error; // #N/A and the like: not a code
  // A shared string exceljs could not resolve, or a kind of cell unknown here: refusing is
  // better than reading the cell as empty and losing the codes in it.
  throw new UnreadWorkbook(
    unsupportedFile('the workbook has cells this service cannot read; save it again as .xlsx, or as CSV'),
  );
}
