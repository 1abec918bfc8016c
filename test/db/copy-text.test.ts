// The COPY text codec against PostgreSQL itself: rows written by encodeRow and loaded with COPY
// FROM come back from SELECT as they were given, and COPY TO's output, decoded, matches SELECT.
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeField, decodeRow, decodeRows, encodeField, encodeRow, type CopyValue } from '../../src/db/copy-text';
import { createTestDatabase } from '../support/context';

let client: pg.Client;
let drop: () => Promise<void> = async () => {};

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('CREATE TABLE copy_values (id int PRIMARY KEY, t text, n bigint)');
});

afterAll(async () => {
  await client?.end();
  await drop();
});

const AWKWARD: (string | null)[] = [
  'PLAIN123',
  '',
  null,
  '\\N', // the text, not NULL
  'N',
  'tab\there',
  '\t',
  'line\nbreak',
  'carriage\rreturn\r\n',
  '\n\n',
  'back\\slash',
  '\\',
  'ends with \\',
  '\\\\t is not a tab',
  '\\.', // COPY's end-of-data marker, on a line of its own
  'x\\.',
  '\\x41 \\101 stay text',
  'control \b \f \v \x01 \x1f \x7f',
  'café Ünïcödé',
  'ｆｕｌｌｗｉｄｔｈ',
  '日本語のコード',
  'emoji 😀 👩‍👩‍👧 and a flag 🇫🇷',
  'e\u0301 combining',
  '\u2028 line separator \u2029',
  ' leading and trailing ',
  'comma,semicolon;"quotes"\'',
  'x'.repeat(10_000),
  `mixed\t\\\n\r😀\\N`,
];

async function load(rows: CopyValue[][]): Promise<void> {
  await client.query('TRUNCATE copy_values');
  const copy = client.query(copyFrom('COPY copy_values (id, t, n) FROM STDIN'));
  await finished(Readable.from([rows.map(encodeRow).join('')]).pipe(copy));
}

async function selected(): Promise<(string | null)[][]> {
  const { rows } = await client.query<{ id: number; t: string | null; n: string | null }>(
    'SELECT id, t, n FROM copy_values ORDER BY id',
  );
  return rows.map((row) => [String(row.id), row.t, row.n]);
}

/** COPY TO's output, decoded; `piece` re-cuts the stream into pieces of that many bytes. */
async function copiedOut(piece?: number): Promise<(string | null)[][]> {
  const stream = client.query(copyTo('COPY (SELECT id, t, n FROM copy_values ORDER BY id) TO STDOUT'));
  async function* recut(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!piece) yield chunk;
      else for (let at = 0; at < chunk.length; at += piece) yield chunk.subarray(at, at + piece);
    }
  }
  const rows: (string | null)[][] = [];
  for await (const decoded of decodeRows(recut())) rows.push(...decoded);
  return rows;
}

describe('COPY text, through PostgreSQL', () => {
  it('loads awkward values as they were given and reads them back the same', async () => {
    await load(AWKWARD.map((value, id) => [id, value, id % 3 === 0 ? null : BigInt(id) * 10n ** 15n]));
    const expected = AWKWARD.map((value, id) => [
      String(id),
      value,
      id % 3 === 0 ? null : (BigInt(id) * 10n ** 15n).toString(),
    ]);
    expect(await selected()).toEqual(expected);
    expect(await copiedOut()).toEqual(expected);
  });

  it('decodes rows whose bytes arrive in pieces cut anywhere, inside a character too', async () => {
    const rows = Array.from({ length: 500 }, (_, id) => [id, AWKWARD[id % AWKWARD.length]?.slice(0, 40) ?? null, id]);
    await load(rows);
    const expected = await selected();
    expect(expected).toHaveLength(500);
    for (const piece of [1, 3, 7, 1000]) expect(await copiedOut(piece)).toEqual(expected);
  });

  it('drops NUL characters, which a text column cannot hold', async () => {
    await load([[1, 'a\0b\0', null]]);
    expect(await selected()).toEqual([['1', 'ab', null]]);
  });

  it('reads every escape the way COPY FROM reads it: octal and hex bytes, letters, others as themselves', async () => {
    const raw = [
      '\\b\\f\\n\\r\\t\\v\\\\',
      '\\101\\x42\\x4a\\x4A',
      '\\7\\77\\177\\1010', // one to three octal digits; a fourth digit is text
      '\\xf\\xfg\\xg', // one or two hex digits; \x without one is an x
      '\\303\\251 \\xc3\\xa9 \\342\\202\\254', // UTF-8 bytes: é é €
      '\\q\\Z\\ \\😀',
      'a\\Nb',
    ];
    await client.query('TRUNCATE copy_values');
    const copy = client.query(copyFrom('COPY copy_values (id, t) FROM STDIN'));
    await finished(Readable.from([raw.map((field, id) => `${id}\t${field}\n`).join('')]).pipe(copy));
    const stored = (await selected()).map((row) => row[1]);
    expect(raw.map(decodeField)).toEqual(stored);
    expect(stored[1]).toBe('ABJJ');
    expect(stored[4]).toBe('é é €');
  });
});

describe('COPY text, the codec alone', () => {
  it('leaves clean values as they are and escapes the rest', () => {
    const clean = 'K7PXM2QD';
    expect(encodeField(clean)).toBe(clean);
    expect(encodeField('')).toBe('');
    expect(encodeField(null)).toBe('\\N');
    expect(encodeField(undefined)).toBe('\\N');
    expect(encodeField(42)).toBe('42');
    expect(encodeField(12345678901234567890n)).toBe('12345678901234567890');
    expect(encodeField('a\tb\nc\rd\\e\0f')).toBe('a\\tb\\nc\\rd\\\\ef');
    expect(encodeRow(['a\tb', null, 7, ''])).toBe('a\\tb\t\\N\t7\t\n');
  });

  it('splits a line into fields, NULL apart from the text \\N', () => {
    expect(decodeRow('a\tb\t\\N\t\\\\N\t')).toEqual(['a', 'b', null, '\\N', '']);
    expect(decodeRow('')).toEqual(['']);
    expect(decodeField('\\N')).toBeNull();
    expect(decodeField('plain')).toBe('plain');
  });

  it('decodes what it encodes', () => {
    for (const value of AWKWARD) {
      const expected = value?.replaceAll('\0', '') ?? null;
      expect(decodeField(encodeField(value))).toBe(expected);
      expect(decodeRow(encodeRow([value, value]).slice(0, -1))).toEqual([expected, expected]);
    }
  });
});
