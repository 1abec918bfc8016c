// A streaming .xlsx writer for tables of text: SpreadsheetML written directly, zipped by
// archiver. Made for code exports of a million rows and more, where exceljs' per-row cell
// objects cost ~20 µs a row (see docs/architecture.md); this costs ~1 µs. Backpressure runs
// end to end: a row is written only when the zip stream, and so the client, keeps up.
import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import archiver from 'archiver';

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const DOC_RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Excel holds 1,048,576 rows a sheet. */
export const MAX_ROWS_PER_SHEET = 1_048_576;

const COLUMN_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const columnName = (index: number): string =>
  index < 26 ? COLUMN_LETTERS[index]! : columnName(Math.floor(index / 26) - 1) + COLUMN_LETTERS[index % 26]!;

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[<>&\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex
const ESCAPES = /[<>&\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text as XML character data: markup escaped, characters XML cannot hold dropped. */
function xmlText(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value; // codes, ids and timestamps: nearly always
  return value.replace(ESCAPES, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : ''));
}

export class XlsxWriter {
  private zip = archiver('zip', { zlib: { level: 1 } });
  private sheets: string[] = [];
  private sheet: PassThrough | null = null;
  private rowsInSheet = 0;
  private columns: string[];
  /** Rows are gathered into pieces of this size: deflate and CRC work per write, not per byte. */
  private pending = '';
  private static PIECE = 256 * 1024;

  /** Every sheet starts with `header`; a new sheet begins before `rowsPerSheet` rows. */
  constructor(
    out: Writable,
    private header: string[],
    private sheetName = 'Sheet',
    private rowsPerSheet = MAX_ROWS_PER_SHEET,
  ) {
    this.columns = header.map((_, i) => columnName(i));
    this.zip.pipe(out);
    this.zip.on('error', (error) => out.destroy(error));
  }

  /**
   * Adds a row of text cells (null leaves a cell empty). Returns a promise to wait for before
   * the next row when the output is full, and nothing otherwise (no promise per row).
   */
  addRow(cells: (string | null)[]): Promise<unknown> | undefined {
    if (!this.sheet || this.rowsInSheet === this.rowsPerSheet) this.startSheet();
    this.writeRow(cells);
    if (this.pending.length >= XlsxWriter.PIECE && !this.flush()) return once(this.sheet!, 'drain');
    return undefined;
  }

  private flush(): boolean {
    const piece = this.pending;
    this.pending = '';
    return this.sheet!.write(piece);
  }

  private startSheet(): void {
    this.endSheet();
    const number = this.sheets.length + 1;
    this.sheets.push(number === 1 ? this.sheetName : `${this.sheetName} ${number}`);
    this.sheet = new PassThrough({ highWaterMark: 1 << 20 });
    this.zip.append(this.sheet, { name: `xl/worksheets/sheet${number}.xml` });
    this.pending = `${HEAD}<worksheet xmlns="${MAIN}"><sheetData>`;
    this.rowsInSheet = 0;
    this.writeRow(this.header);
  }

  private writeRow(cells: (string | null)[]): void {
    const r = ++this.rowsInSheet;
    let xml = `<row r="${r}">`;
    for (let i = 0; i < cells.length; i++) {
      const value = cells[i];
      if (value === null || value === undefined || value === '') continue;
      xml += `<c r="${this.columns[i]}${r}" t="inlineStr"><is><t>${xmlText(value)}</t></is></c>`;
    }
    this.pending += xml + '</row>';
  }

  private endSheet(): void {
    if (!this.sheet) return;
    this.flush();
    this.sheet.end('</sheetData></worksheet>');
    this.sheet = null;
  }

  /** Writes the workbook's remaining parts and finishes the zip. */
  async finish(): Promise<void> {
    if (this.sheets.length === 0) this.startSheet();
    this.endSheet();
    const sheets = this.sheets.map((name, i) => ({ name, file: `sheet${i + 1}.xml`, rel: `rId${i + 1}` }));
    this.zip.append(
      `${HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
        `<Default Extension="xml" ContentType="application/xml"/>` +
        `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
        sheets.map((s) => `<Override PartName="/xl/worksheets/${s.file}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('') +
        '</Types>',
      { name: '[Content_Types].xml' },
    );
    this.zip.append(
      `${HEAD}<Relationships xmlns="${RELS}"><Relationship Id="rId1" Type="${DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
      { name: '_rels/.rels' },
    );
    this.zip.append(
      `${HEAD}<workbook xmlns="${MAIN}" xmlns:r="${DOC_RELS}"><sheets>` +
        sheets.map((s, i) => `<sheet name="${xmlText(s.name)}" sheetId="${i + 1}" r:id="${s.rel}"/>`).join('') +
        '</sheets></workbook>',
      { name: 'xl/workbook.xml' },
    );
    this.zip.append(
      `${HEAD}<Relationships xmlns="${RELS}">` +
        sheets.map((s) => `<Relationship Id="${s.rel}" Type="${DOC_RELS}/worksheet" Target="worksheets/${s.file}"/>`).join('') +
        '</Relationships>',
      { name: 'xl/_rels/workbook.xml.rels' },
    );
    await this.zip.finalize();
  }
}
