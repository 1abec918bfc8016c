// The generated-code format rules, mirrored from src/codes/format.ts for the "Generate codes"
// form: a live sample and the possible-codes (sparsity) check. The service stays authoritative:
// it also counts codes already made in the same format and answers `code_space_too_small`.
import type { Charset } from './model';

export const CHARSETS: Record<Charset, string> = {
  unambiguous: '23456789ABCDEFGHJKMNPQRSTVWXYZ',
  alphanumeric: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  letters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  numeric: '0123456789',
};

export const CHARSET_LABELS: Record<Charset, string> = {
  unambiguous: 'Unambiguous: digits and letters without 0 1 I L O U',
  alphanumeric: 'Letters and digits',
  letters: 'Letters only',
  numeric: 'Digits only',
};

export const MIN_LENGTH = 6;
export const MAX_LENGTH = 32;
export const DEFAULT_LENGTH = 10;
/** After a batch, a format's codes may fill at most 1 / SPARSITY of its space. */
export const SPARSITY = 10_000n;
export const AFFIX_PATTERN = /^[A-Z0-9]{0,16}$/;

export interface CodeFormat {
  length: number;
  prefix: string;
  suffix: string;
  charset: Charset;
}

/** Every code the format can spell: charset size ^ length. */
export const possibleCodes = (format: CodeFormat): bigint => BigInt(CHARSETS[format.charset].length) ** BigInt(format.length);

/** How many codes of this format may exist in all: ⌊possible / 10,000⌋. */
export const formatCapacity = (format: CodeFormat): bigint => possibleCodes(format) / SPARSITY;

/** A random code of the format, from the browser's cryptographic source (a preview only). */
export function sampleCode(format: CodeFormat): string {
  const chars = CHARSETS[format.charset];
  const random = new Uint32Array(format.length);
  crypto.getRandomValues(random);
  let body = '';
  for (const value of random) body += chars[value % chars.length];
  return format.prefix + body + format.suffix;
}

/** A big count for people: grouped digits, or "about 1.9 × 10^47" when it is too long to read. */
export function formatBig(n: bigint): string {
  const digits = n.toString();
  if (digits.length <= 15) return Number(n).toLocaleString('en-US');
  const mantissa = `${digits[0]}.${digits.slice(1, 3)}`.replace(/\.?0+$/, '');
  return `about ${mantissa} × 10^${digits.length - 1}`;
}

/** The shortest length (at most 32) whose space fits `count` codes with this charset, or null. */
export function lengthNeeded(count: number, format: CodeFormat): number | null {
  for (let length = MIN_LENGTH; length <= MAX_LENGTH; length++) {
    if (formatCapacity({ ...format, length }) >= BigInt(count)) return length;
  }
  return null;
}
