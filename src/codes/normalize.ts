// Codes are stored and matched in normalized form (docs/product.md): Unicode NFKC, whitespace and
// '-' removed, upper-cased, so `spring-sale`, ` SPRINGSALE ` and `SpringSale` are one code.

export function normalizeCode(input: string): string {
  return input
    .normalize('NFKC')
    .replace(/[\s-]+/gu, '')
    .toUpperCase();
}

export type CodeProblem = 'too_short' | 'too_long' | 'bad_characters';

/**
 * What keeps a normalized code out of the alphabet — 3–64 characters of A–Z and 0–9 (NFKC folds
 * fullwidth forms into these first) — or null when it is a valid code.
 */
export function codeProblem(normalized: string): CodeProblem | null {
  if (!/^[A-Z0-9]*$/.test(normalized)) return 'bad_characters';
  if (normalized.length < 3) return 'too_short';
  if (normalized.length > 64) return 'too_long';
  return null;
}

/** Each problem in words, for a field message. */
export const CODE_PROBLEMS: Record<CodeProblem, string> = {
  too_short: 'must have at least 3 letters or digits once spaces and dashes are removed',
  too_long: 'must have at most 64 letters or digits once spaces and dashes are removed',
  bad_characters: 'may hold only the letters A–Z and digits 0–9, besides spaces and dashes',
};
