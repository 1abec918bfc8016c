// The generated-code format for the "Generate codes" form: a live sample and the possible-codes
// (sparsity) check, with the service's own rules from src/codes/format.ts. The service stays
// authoritative: it also counts codes already made in the same format and answers
// `code_space_too_small`. Labels and input bounds are the form's.
import { DEFAULT_FORMAT, formatCapacity, sampleCode as sampleOf, type CodeFormat } from '../../../../src/codes/format';
import type { Charset } from '../../api';

export { CHARSETS, SPARSITY, formatCapacity, possibleCodes, type CodeFormat } from '../../../../src/codes/format';

export const CHARSET_LABELS: Record<Charset, string> = {
  unambiguous: 'Unambiguous: digits and letters without 0 1 I L O U',
  alphanumeric: 'Letters and digits',
  letters: 'Letters only',
  numeric: 'Digits only',
};

// The bounds of POST /v1/lists/{id}/batches (src/codes/batches.schema.ts), for the form's own messages.
export const MIN_LENGTH = 6;
export const MAX_LENGTH = 32;
export const DEFAULT_LENGTH = DEFAULT_FORMAT.length;
export const AFFIX_PATTERN = /^[A-Z0-9]{0,16}$/;

/** A random whole number below `n` from the browser's cryptographic source. */
const cryptoRandom = (n: number): number => crypto.getRandomValues(new Uint32Array(1))[0]! % n;

/** A random code of the format, from the browser's cryptographic source (a preview only). */
export const sampleCode = (format: CodeFormat): string => sampleOf(format, cryptoRandom);

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
