// A list's type and status in words, keyed by the API's own enums so a new value needs its words.
import type { ListStatus, ListType, PromoList } from '../../api';

export const TYPE_LABELS: Record<ListType, string> = {
  single_use: 'Single-use',
  multi_use: 'Multi-use',
  third_party: 'Third-party',
};

/** A list type as the code views read it (a plain string there), in words when it is known. */
export const listTypeLabel = (type: string) => TYPE_LABELS[type as keyof typeof TYPE_LABELS] ?? type;

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
