// Formatters that both the list views and the agent/admin views use. The shapes they read
// (Outcome, Offer) are the API's own (api/types.ts, from the OpenAPI document).
import type { Offer, Outcome } from './api';

/** Outcome in a sentence: "100 spendable points from promo_code, offers: Free coffee, tags: vip". */
export function describeOutcome(outcome: Outcome, offers?: Offer[]): string {
  const parts: string[] = [];
  if (outcome.points)
    parts.push(
      `${outcome.points.amount.toLocaleString('en-US')} ${outcome.points.account} points from ${outcome.points.source}`,
    );
  if (outcome.offers?.length) {
    const names = outcome.offers.map((id) => offers?.find((offer) => offer.id === id)?.name ?? id);
    parts.push(`offers: ${names.join(', ')}`);
  }
  if (outcome.tags?.length) parts.push(`tags: ${outcome.tags.join(', ')}`);
  return parts.join(', ') || '—';
}

/** Email addresses typed into a "notify" box, separated by commas, semicolons or spaces. */
export const splitEmails = (text: string): string[] => text.split(/[,;\s]+/).filter(Boolean);
