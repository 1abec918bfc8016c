// Generated code formats (docs/product.md): random characters from a charset, with an optional fixed
// prefix and suffix, and the sparsity rule that keeps guessing a code hopeless. Pure and free of
// Node-only imports: the dashboard's "Generate codes" form imports it too (web/src/pages/lists/).

export const CHARSETS = {
  // digits and letters without 0 1 I L O U, which people misread or mistype
  unambiguous: '23456789ABCDEFGHJKMNPQRSTVWXYZ',
  alphanumeric: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  letters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  numeric: '0123456789',
} as const;

export type Charset = keyof typeof CHARSETS;

export interface CodeFormat {
  length: number;
  prefix: string;
  suffix: string;
  charset: Charset;
}

export const DEFAULT_FORMAT: CodeFormat = { length: 10, prefix: '', suffix: '', charset: 'unambiguous' };

/** The bounds of a requested format: how many random characters, and how long a prefix or suffix. */
export const FORMAT_LIMITS = { minLength: 6, maxLength: 32, maxAffix: 16 } as const;

/** After a batch, a format's codes may fill at most this fraction of its space. */
export const SPARSITY = 10_000n;

/** Identifies a format's space: codes of different formats can never collide. */
export function formatKey(format: CodeFormat): string {
  return `${format.charset}:${format.length}:${format.prefix}:${format.suffix}`;
}

/** Every code the format can spell: charset^length. */
export function possibleCodes(format: CodeFormat): bigint {
  return BigInt(CHARSETS[format.charset].length) ** BigInt(format.length);
}

/** How many codes of this format may exist in all: ⌊charset^length / 10,000⌋. */
export function formatCapacity(format: CodeFormat): bigint {
  return possibleCodes(format) / SPARSITY;
}

/** A made-up code of the format, for previews; not drawn from the real generator's stream. */
export function sampleCode(
  format: CodeFormat,
  random: (n: number) => number = (n) => Math.floor(Math.random() * n),
): string {
  const chars = CHARSETS[format.charset];
  let body = '';
  for (let i = 0; i < format.length; i++) body += chars[random(chars.length)];
  return format.prefix + body + format.suffix;
}
