// Shapes of lists, batches, imports and the catalog as the /v1 API answers them
// (src/lists/lists.schema.ts, src/codes/batches.schema.ts, imports.schema.ts, catalog.schema.ts),
// and the small helpers the list views share.
import { ApiError } from '../../api';
import { asSentence } from '../../components/Feedback';
import type { Outcome } from '../../domain';

export type ListType = 'single_use' | 'multi_use' | 'third_party';
export type ListStatus = 'pending' | 'active' | 'completed';
export type JobStatus = 'pending' | 'active' | 'failed';


export interface PromoList {
  id: string;
  name: string;
  description: string | null;
  type: ListType;
  starts_at: string;
  ends_at: string | null;
  redemption_cap: number | null;
  outcome: Outcome;
  code: string | null;
  status: ListStatus;
  completed_reason: 'ended' | 'cap_reached' | null;
  claim_count: number;
  code_count: number;
  available_count: number;
  cancelled_count: number;
  entry_cap: number | null;
  created_at: string;
  updated_at: string;
}

export type Charset = 'unambiguous' | 'alphanumeric' | 'letters' | 'numeric';

export interface Batch {
  id: string;
  list_id: string;
  name: string | null;
  requested: number;
  generated: number;
  status: JobStatus;
  error: string | null;
  notify: string[];
  format: { length: number; prefix: string; suffix: string; charset: Charset };
  created_at: string;
  completed_at: string | null;
}

export interface Import {
  id: string;
  list_id: string;
  name: string | null;
  status: JobStatus;
  total_lines: number;
  accepted: number;
  rejected: number;
  error: string | null;
  notify: string[];
  created_at: string;
  completed_at: string | null;
}

/** A rejected row of an import (GET /v1/imports/:id/rejections). */
export interface Rejection {
  line: number;
  value: string;
  reason: 'invalid' | 'duplicate' | 'code_taken';
  detail: 'too_short' | 'too_long' | 'bad_characters' | null;
  repeats_line: number | null;
}

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

export const STATUS_LABELS: Record<ListStatus, string> = { pending: 'Pending', active: 'Active', completed: 'Completed' };

/** Why a list is completed, in words (the status tag's title). */
export function completedReason(list: Pick<PromoList, 'status' | 'completed_reason'>): string | undefined {
  if (list.status !== 'completed') return undefined;
  return list.completed_reason === 'cap_reached' ? 'Completed: the claim cap was reached' : 'Completed: the end date has passed';
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
