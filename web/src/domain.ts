// Shapes and formatters that both the list views and the agent/admin views use.

/** What a claim gives the customer (a list's outcome, copied onto each claim). */
export interface Outcome {
  points?: { amount: number; account: string; source: string };
  offers?: string[];
  tags?: string[];
}

/** A point account or point source of the catalog. */
export interface PointKind {
  key: string;
  name: string;
  created_at: string;
}

export interface Offer {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

/** Outcome in a sentence: "100 spendable points from promo_code, offers: Free coffee, tags: vip". */
export function describeOutcome(outcome: Outcome, offers?: Offer[]): string {
  const parts: string[] = [];
  if (outcome.points) parts.push(`${outcome.points.amount.toLocaleString('en-US')} ${outcome.points.account} points from ${outcome.points.source}`);
  if (outcome.offers?.length) {
    const names = outcome.offers.map((id) => offers?.find((offer) => offer.id === id)?.name ?? id);
    parts.push(`offers: ${names.join(', ')}`);
  }
  if (outcome.tags?.length) parts.push(`tags: ${outcome.tags.join(', ')}`);
  return parts.join(', ') || '—';
}

/** Email addresses typed into a "notify" box, separated by commas, semicolons or spaces. */
export const splitEmails = (text: string): string[] => text.split(/[,;\s]+/).filter(Boolean);
