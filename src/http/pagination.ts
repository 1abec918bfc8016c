// Opaque cursors for keyset pagination: base64url of the last row's sort key.
import { invalid } from './errors';
import { timestampProblem } from './timestamps';

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The kinds of value a cursor key may hold; each is checked before it reaches SQL. */
export type KeyPart = 'id' | 'text' | 'number' | 'timestamp' | 'nullable-text' | 'nullable-number';

const checks: Record<KeyPart, (v: unknown) => boolean> = {
  id: (v) => typeof v === 'string' && /^[1-9][0-9]{0,17}$/.test(v),
  text: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  timestamp: (v) => typeof v === 'string' && timestampProblem(v) === null,
  'nullable-text': (v) => v === null || typeof v === 'string',
  'nullable-number': (v) => v === null || (typeof v === 'number' && Number.isFinite(v)),
};

export function decodeCursor(cursor: string | undefined, shape: KeyPart[]): unknown[] | null {
  if (cursor === undefined) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === shape.length && shape.every((kind, i) => checks[kind](key[i]))) return key;
  } catch {
    // fall through to the error below
  }
  throw invalid([{ path: 'querystring.cursor', message: 'is not a cursor this collection gave out' }]);
}

/**
 * Given rows fetched with `limit + 1`, returns the page and the cursor to the next one.
 */
export function page<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => unknown[],
): { items: T[]; next_cursor: string | null } {
  if (rows.length <= limit) return { items: rows, next_cursor: null };
  const items = rows.slice(0, limit);
  return { items, next_cursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}
