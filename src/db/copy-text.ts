// PostgreSQL's COPY text format (the default of COPY FROM STDIN and COPY TO STDOUT): one row a
// line, fields separated by tabs, `\N` for NULL, and backslash escapes for the characters that
// would break that framing. Imports, exports and batch generation move millions of rows through
// it, so clean values (nearly all of them) pass through a single test untouched.

/** A field's value: text, a number (nothing to escape), or null/undefined for SQL NULL. */
export type CopyValue = string | number | bigint | null | undefined;

/** NUL cannot be stored in a text column at all; the rest would end a field or a row. */
const NEEDS_ESCAPE = /[\0\\\t\n\r]/;
const ESCAPED = /[\0\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\0': '', '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string) => ESCAPES[c]!;

/** One field for COPY FROM: NULL as `\N`; NUL characters are dropped (PostgreSQL text cannot hold them). */
export function encodeField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, escapeChar) : value;
}

/** One row for COPY FROM, its line break included. */
export function encodeRow(fields: readonly CopyValue[]): string {
  let row = encodeField(fields[0]);
  for (let i = 1; i < fields.length; i++) row += `\t${encodeField(fields[i])}`;
  return `${row}\n`;
}

/** What a backslash followed by this character stands for (any other character stands for itself). */
const UNESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

const isOctal = (c: number) => c >= 0x30 && c <= 0x37;
const hexValue = (c: number) =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/**
 * One field of a COPY TO line: `\N` is NULL, and every escape COPY reads is undone. COPY TO only
 * writes `\b \f \n \r \t \v \\`, but octal (`\303`) and hex (`\xC3`) bytes are read too; a run of
 * them is decoded as UTF-8, as PostgreSQL does in a UTF-8 database.
 */
export function decodeField(field: string): string | null {
  if (field.indexOf('\\') < 0) return field;
  if (field === '\\N') return null;
  let out = '';
  const bytes: number[] = [];
  const flushBytes = () => {
    out += Buffer.from(bytes).toString('utf8');
    bytes.length = 0;
  };
  for (let i = 0; i < field.length; i++) {
    let byte = -1;
    let text = field[i]!;
    if (text === '\\' && i + 1 < field.length) {
      const c = field.charCodeAt(++i);
      if (isOctal(c)) {
        byte = c - 0x30;
        for (let n = 1; n < 3 && isOctal(field.charCodeAt(i + 1)); n++) byte = byte * 8 + field.charCodeAt(++i) - 0x30;
        byte &= 0xff;
      } else if (c === 0x78 && hexValue(field.charCodeAt(i + 1)) >= 0) {
        byte = hexValue(field.charCodeAt(++i));
        const low = hexValue(field.charCodeAt(i + 1));
        if (low >= 0) {
          byte = byte * 16 + low;
          i++;
        }
      } else text = UNESCAPED[field[i]!] ?? field[i]!;
    }
    if (byte >= 0) bytes.push(byte);
    else {
      if (bytes.length) flushBytes();
      out += text;
    }
  }
  if (bytes.length) flushBytes();
  return out;
}

/** One COPY TO line (without its line break) into its fields. */
export function decodeRow(line: string): (string | null)[] {
  const fields: (string | null)[] = line.split('\t');
  // Without a backslash there is neither an escape nor a NULL: the fields are the values.
  if (line.indexOf('\\') < 0) return fields;
  for (let i = 0; i < fields.length; i++) fields[i] = decodeField(fields[i] as string);
  return fields;
}

/**
 * The rows of a COPY TO STDOUT stream, decoded, a chunk's worth at a time. Chunks may end
 * anywhere, even inside a character: lines are cut on bytes and decoded whole.
 */
export async function* decodeRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<(string | null)[][]> {
  let rest: Buffer | null = null;
  for await (const chunk of chunks) {
    const data: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    const end = data.lastIndexOf(0x0a);
    if (end < 0) {
      rest = data;
      continue;
    }
    rest = end + 1 < data.length ? data.subarray(end + 1) : null;
    yield decodeLines(data.toString('utf8', 0, end));
  }
  if (rest?.length) yield decodeLines(rest.toString('utf8'));
}

function decodeLines(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let start = 0;
  for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
    rows.push(decodeRow(text.slice(start, end)));
    start = end + 1;
  }
  rows.push(decodeRow(text.slice(start)));
  return rows;
}
