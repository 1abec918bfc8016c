// Claim refusals in words an agent can read out to a customer. Keyed by the API's own codes
// (api/schema.d.ts): a refusal without words, or words for a code the claim route never answers,
// does not compile.
import { dateInText as at, formatCount } from './format';
import type { ClaimRefusal, ErrorCodeOf, TroubleshootReport } from './api';

/** What each refusal of a claim (docs/product.md) means: every refusal, and other codes a claim may answer. */
export const REASONS = {
  customer_not_found: 'No registered customer has this ID.',
  customer_blocked: 'The customer is blocked from claiming by an agent.',
  customer_locked_out: 'The customer tried too many unknown codes and is locked out for a while.',
  code_not_found: 'No such code exists.',
  list_not_started: "The code's list has not started yet.",
  list_ended: "The code's list has ended.",
  list_cap_reached: "The code's list has reached its redemption cap.",
  code_cancelled: 'The code was cancelled.',
  code_already_claimed: 'The code has already been claimed.',
  already_claimed_by_customer: 'The customer has already claimed this code.',
  customer_limit_reached: 'The customer has reached their claim limit.',
  rate_limited: 'Too many requests at once.',
} satisfies Record<ClaimRefusal, string> & Partial<Record<ErrorCodeOf<'claimCode'>, string>>;

type Reason = keyof typeof REASONS;
const isReason = (code: string): code is Reason => Object.hasOwn(REASONS, code);

/** An attempt's reason (a refusal code, as the service stored it: a plain string in the API) in words. */
export const reasonText = (reason: string | null | undefined) =>
  !reason ? '' : isReason(reason) ? REASONS[reason] : reason.replace(/_/g, ' ');

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
/** A reason someone gave, after a colon, or nothing without one. */
const because = (reason: string | null | undefined) => (reason ? `: ${reason}` : '');

/** The verdict's refusal, explained with the facts of the report (dates, who, limits). */
export function refusalSentence(report: TroubleshootReport): string {
  const verdict = report.verdict!;
  const code = report.code;
  const customer = report.customer;
  const details = verdict.details ?? {};
  const lockedUntil = details.locked_until ?? customer?.locked_out_until;
  // No `default`: every refusal has its sentence, or this function does not compile.
  switch (verdict.error) {
    case null:
      return capital(verdict.message);
    case 'customer_not_found':
      return `No registered customer has the ID “${report.query.customer_id}”.`;
    case 'customer_blocked':
      return `This customer was blocked on ${at(customer?.blocked_at)}${because(customer?.blocked_reason)}.`;
    case 'customer_locked_out':
      return `This customer tried too many unknown codes and is locked out until ${at(lockedUntil)}.`;
    case 'code_not_found':
      return `No code “${report.query.code}” exists. Codes match ignoring case, spaces and dashes.`;
    case 'list_not_started':
      return `The list “${code?.list.name}” starts on ${at(code?.list.starts_at)}.`;
    case 'list_ended':
      return `The list “${code?.list.name}” ended on ${at(code?.list.ends_at)}.`;
    case 'list_cap_reached':
      return `The list “${code?.list.name}” reached its cap of ${formatCount(code?.list.redemption_cap)} claims.`;
    case 'code_cancelled':
      return `This code was cancelled on ${at(code?.cancelled_at)}${because(code?.cancel_reason)}.`;
    case 'code_already_claimed': {
      const by = code?.claimed_by ? ` by ${code.claimed_by}` : '';
      return `This code was already claimed${by} on ${at(code?.claimed_at)}.`;
    }
    case 'already_claimed_by_customer':
      return 'This customer has already claimed this multi-use code; each customer may claim it once.';
    case 'customer_limit_reached':
      return details.period
        ? `This customer has reached the limit of ${details.limit} claims per ${details.period}.`
        : 'This customer has reached their claim limit.';
  }
}
