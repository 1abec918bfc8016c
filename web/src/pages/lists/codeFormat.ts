// What the "Generate codes" form adds to the service's format rules (src/codes/format.ts): labels,
// a preview from the browser's cryptographic source, and big counts and lengths in words. The
// service stays authoritative: it also counts codes already made in the same format and answers
// `code_space_too_small`.
import { FORMAT_LIMITS, formatCapacity, sampleCode as sampleOf, type CodeFormat } from '../../../../src/codes/format';
import type { Charset } from '../../api';

export const CHARSET_LABELS: Record<Charset, string> = {
  unambiguous: 'Unambiguous: digits and letters without 0 1 I L O U',
  alphanumeric: 'Letters and digits',
  letters: 'Letters only',
  numeric: 'Digits only',
};

/** A prefix or suffix as the form holds it: the field upper-cases what is typed. */
export const AFFIX_PATTERN = new RegExp(`^[A-Z0-9]{0,${FORMAT_LIMITS.maxAffix}}$`);

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

/** The shortest allowed length whose space fits `count` codes with this charset, or null. */
export function lengthNeeded(count: number, format: CodeFormat): number | null {
  for (let length = FORMAT_LIMITS.minLength; length <= FORMAT_LIMITS.maxLength; length++) {
    if (formatCapacity({ ...format, length }) >= BigInt(count)) return length;
  }
  return null;
}
