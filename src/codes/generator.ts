// Random codes from a cryptographic source, fast enough for millions a second.
//
// Every character is uniform over the charset: the leading characters come from one uniform
// integer below charset^k (k as large as 48 bits allow), drawn from crypto bytes with
// rejection sampling; the rest, if any, are single characters drawn the same way. Sorted
// leading integers yield the codes in byte order, which makes the index inserts that follow
// sequential instead of random. A large batch is made in slices: chunk i of n draws its
// leading integers from the i-th n-th of their range, so the whole batch comes out in order
// (each code is still uniform over its slice, and the slices tile the space).
// The output is COPY text rows, `CODE\t<fields>\n` each (or an array literal for a text[]
// parameter), built in one buffer: no per-code JavaScript strings, and nothing to convert before
// the rows go to PostgreSQL.
import { randomFillSync } from 'node:crypto';
import { encodeField, type CopyValue } from '../db/copy-text';
import { CHARSETS, type CodeFormat } from './format';

const TWO_POW_48 = 2 ** 48;

class RandomBytes {
  private buffer = Buffer.allocUnsafe(1 << 16);
  private at = this.buffer.length;

  byte(): number {
    if (this.at === this.buffer.length) {
      randomFillSync(this.buffer);
      this.at = 0;
    }
    return this.buffer[this.at++]!;
  }

  /** Uniform integer in [0, 2^48). */
  uint48(): number {
    if (this.at + 6 > this.buffer.length) {
      randomFillSync(this.buffer);
      this.at = 0;
    }
    const value = this.buffer.readUIntBE(this.at, 6);
    this.at += 6;
    return value;
  }
}

/**
 * Sorts values spread uniformly over [0, space): a counting sort into ~count buckets, then an
 * insertion pass over the nearly sorted result. O(n), where a comparison sort is O(n log n).
 */
function sortUniform(values: Float64Array, space: number): Float64Array {
  const buckets = Math.max(1, Math.min(values.length, 1 << 20));
  const scale = buckets / space;
  const starts = new Uint32Array(buckets + 1);
  const bucketOf = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(buckets - 1, Math.floor(values[i]! * scale));
    bucketOf[i] = b;
    starts[b + 1]!++;
  }
  for (let b = 0; b < buckets; b++) starts[b + 1]! += starts[b]!;
  const sorted = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) sorted[starts[bucketOf[i]!]!++] = values[i]!;
  for (let i = 1; i < sorted.length; i++) {
    const value = sorted[i]!;
    let j = i - 1;
    while (j >= 0 && sorted[j]! > value) {
      sorted[j + 1] = sorted[j]!;
      j--;
    }
    sorted[j + 1] = value;
  }
  return sorted;
}

export interface GeneratedRows {
  /** `code\t<fields>\n` for each code: COPY text, ready for COPY FROM STDIN. */
  rows: Buffer;
  count: number;
}

export interface Slice {
  index: number;
  of: number;
}

/**
 * `count` random codes of the format, sorted, from the given slice of the code space, as COPY
 * rows: each code, then `fields` (the same for every row, e.g. the list and batch ids).
 */
export function generateRows(
  format: CodeFormat,
  count: number,
  slice: Slice = { index: 0, of: 1 },
  fields: readonly CopyValue[] = [],
): GeneratedRows {
  // The charset needs no escaping; the affixes and fields are escaped once, not on every row.
  const tail = Buffer.from(`${fields.map((field) => `\t${encodeField(field)}`).join('')}\n`);
  const affixes = { prefix: Buffer.from(encodeField(format.prefix)), suffix: Buffer.from(encodeField(format.suffix)) };
  const { out, length, count: made } = writeCodes(format, count, slice, affixes, tail);
  return { rows: out.subarray(0, length), count: made };
}

/**
 * Writes the codes into one buffer, each followed by `tail`. Repeats are dropped where the
 * leading integer is the whole code; any other (rarer) clash is left for the insert to skip.
 */
function writeCodes(
  format: CodeFormat,
  count: number,
  slice: Slice,
  { prefix, suffix }: { prefix: Buffer; suffix: Buffer },
  tail: Buffer,
): { out: Buffer; length: number; count: number } {
  const alphabet = Buffer.from(CHARSETS[format.charset], 'latin1');
  const size = alphabet.length;
  const lead = Math.min(format.length, Math.floor(48 / Math.log2(size)));
  const space = size ** lead; // ≤ 2^48: exact in a double
  const low = Math.floor((space * slice.index) / slice.of);
  const width = Math.max(1, Math.floor((space * (slice.index + 1)) / slice.of) - low);
  const limit = Math.floor(TWO_POW_48 / width) * width;
  const byteLimit = 256 - (256 % size);
  const random = new RandomBytes();

  const drawn = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let r: number;
    do r = random.uint48();
    while (r >= limit);
    drawn[i] = r % width;
  }
  const leads = sortUniform(drawn, width);
  const wholeCode = lead === format.length;

  const out = Buffer.allocUnsafe(count * (prefix.length + format.length + suffix.length + tail.length));
  let at = 0;
  let made = 0;
  for (let i = 0; i < count; i++) {
    if (wholeCode && i > 0 && leads[i] === leads[i - 1]) continue;
    made++;
    at += prefix.copy(out, at);
    let value = low + leads[i]!;
    for (let d = lead - 1; d >= 0; d--) {
      out[at + d] = alphabet[value % size]!;
      value = Math.floor(value / size);
    }
    at += lead;
    for (let d = lead; d < format.length; d++) {
      let b: number;
      do b = random.byte();
      while (b >= byteLimit);
      out[at++] = alphabet[b % size]!;
    }
    at += suffix.copy(out, at);
    for (let t = 0; t < tail.length; t++) out[at++] = tail[t]!;
  }
  return { out, length: at, count: made };
}
