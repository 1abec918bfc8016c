// Words and small helpers the list views share. The shapes of lists, batches, imports and the
// catalog are the API's own (api/types.ts, from the OpenAPI document).
import { ApiError, type ListStatus, type ListType, type PromoList } from '../../api';
import { asSentence } from '../../components/Feedback';

export const TYPE_LABELS: Record<ListType, string> = {
  single_use: 'Single-use',
  multi_use: 'Multi-use',
  third_party: 'Third-party',
};

export const TYPE_EXPLANATIONS: Record<ListType, string> = {
  single_use: 'Random codes generated in batches; each code works for one claim.',
  multi_use: 'One code you name (e.g. SpringSale); each customer can use it once, up to the cap.',
  third_party: 'Codes from another provider, uploaded as a file; each code works for one claim.',
};

export const STATUS_LABELS: Record<ListStatus, string> = {
  pending: 'Pending',
  active: 'Active',
  completed: 'Completed',
};

/** Why a list is completed, in words (the status tag's title). */
export function completedReason(list: Pick<PromoList, 'status' | 'completed_reason'>): string | undefined {
  if (list.status !== 'completed') return undefined;
  return list.completed_reason === 'cap_reached'
    ? 'Completed: the claim cap was reached'
    : 'Completed: the end date has passed';
}

/** A `datetime-local` value (local time, minutes) for an ISO timestamp or a Date. */
export function toLocalInput(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO 8601 UTC for a `datetime-local` value, or null when it is empty or not a date. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** First message among `errors` for `key` or any path under it (`outcome.offers` covers `outcome.offers.2`). */
export function fieldError(errors: Record<string, string>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    for (const [path, message] of Object.entries(errors)) {
      if (path === key || path.startsWith(`${key}.`)) return asSentence(message);
    }
  }
  return undefined;
}

/** Server field errors of a failure (400 validation_failed, or a 409 that names its field). */
export function serverFieldErrors(failure: unknown): Record<string, string> {
  return failure instanceof ApiError ? failure.fieldErrors() : {};
}

/** Whole number from an input's text, or NaN when it is not one. */
export function wholeNumber(text: string): number {
  const trimmed = text.trim().replace(/[,_\s]/g, '');
  return /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

/** Link targets of the admin exports (the session cookie authenticates these GETs). */
export const exportHref = (kind: 'batches' | 'imports' | 'lists', id: string, format: 'xlsx' | 'csv') =>
  `/v1/${kind}/${encodeURIComponent(id)}/export?format=${format}`;
