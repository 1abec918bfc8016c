// The list forms' inputs and their errors: dates in `datetime-local` fields, whole numbers, and
// the service's field errors next to the field they name.
import { ApiError } from '../../api';
import { asSentence } from '../../components/Feedback';

/** A `datetime-local` value (local time, minutes) for an ISO timestamp or a Date. */
export function toLocalInput(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
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
