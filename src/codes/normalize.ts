// Codes are stored and matched in normalized form (docs/product.md): Unicode NFKC, whitespace and
// '-' removed, upper-cased, so `spring-sale`, ` SPRINGSALE ` and `SpringSale` are one code.

export function normalizeCode(input: string): string {
  return input.normalize('NFKC').replace(/[\s-]+/gu, '').toUpperCase();
}

/** A normalized code holds 3–64 letters, digits, '_' or '.' (any script). */
export const CODE_PATTERN = /^[\p{L}\p{N}_.]{3,64}$/u;

export function isValidCode(normalized: string): boolean {
  return CODE_PATTERN.test(normalized);
}
