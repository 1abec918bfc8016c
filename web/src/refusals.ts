// Refusal codes, outcomes and audit actions in words an agent can read out to a customer.
import { formatCount, formatDate } from './format';
import type { AuditEvent, ClaimRefusal, ErrorCodeOf, TimelineEvent, TroubleshootReport } from './api';

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

/** An attempt's reason (a refusal code, as the service stored it) in words. */
export const reasonText = (reason: string | null | undefined) =>
  reason ? ((REASONS as Partial<Record<string, string>>)[reason] ?? reason.replace(/_/g, ' ')) : '';

const at = (iso: string | null | undefined) => (iso ? formatDate(iso) : 'an unknown time');

/** The verdict's refusal, explained with the facts of the report (dates, who, limits). */
export function refusalSentence(report: TroubleshootReport): string {
  const verdict = report.verdict!;
  const code = report.code;
  const customer = report.customer;
  const details = verdict.details ?? {};
  switch (verdict.error) {
    case 'customer_not_found':
      return `No registered customer has the ID “${report.query.customer_id}”.`;
    case 'customer_blocked':
      return `This customer was blocked on ${at(customer?.blocked_at)}${customer?.blocked_reason ? `: ${customer.blocked_reason}` : ''}.`;
    case 'customer_locked_out':
      return `This customer tried too many unknown codes and is locked out until ${at(details.locked_until ?? customer?.locked_out_until)}.`;
    case 'code_not_found':
      return `No code “${report.query.code}” exists. Codes match ignoring case, spaces and dashes.`;
    case 'list_not_started':
      return `The list “${code?.list.name}” starts on ${at(code?.list.starts_at)}.`;
    case 'list_ended':
      return `The list “${code?.list.name}” ended on ${at(code?.list.ends_at)}.`;
    case 'list_cap_reached':
      return `The list “${code?.list.name}” reached its cap of ${formatCount(code?.list.redemption_cap)} claims.`;
    case 'code_cancelled':
      return `This code was cancelled on ${at(code?.cancelled_at)}${code?.cancel_reason ? `: ${code.cancel_reason}` : ''}.`;
    case 'code_already_claimed':
      return `This code was already claimed${code?.claimed_by ? ` by ${code.claimed_by}` : ''} on ${at(code?.claimed_at)}.`;
    case 'already_claimed_by_customer':
      return 'This customer has already claimed this multi-use code; each customer may claim it once.';
    case 'customer_limit_reached':
      return details.period
        ? `This customer has reached the limit of ${details.limit} claims per ${details.period}.`
        : 'This customer has reached their claim limit.';
    default:
      return verdict.message.charAt(0).toUpperCase() + verdict.message.slice(1);
  }
}

const ACTIONS: Record<string, string> = {
  'api_key.create': 'API key created',
  'api_key.revoke': 'API key revoked',
  'batch.create': 'Batch of codes requested',
  'claim.reverse': 'Claim reversed',
  'code.cancel': 'Code cancelled',
  'customer.block': 'Customer blocked',
  'customer.unblock': 'Customer unblocked',
  'customer.create': 'Customer registered',
  'customer.update': 'Customer details changed',
  'customer.lockout': 'Customer locked out',
  'customer.lockout_clear': 'Lockout cleared',
  'import.create': 'Codes upload started',
  'list.create': 'List created',
  'list.update': 'List edited',
  'offer.create': 'Offer created',
  'offer.update': 'Offer edited',
  'settings.claim_limits': 'Claim limits changed',
};

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Kind of timeline entry, shown as a small label. */
export const EVENT_LABELS: Record<string, string> = {
  code_created: 'Created',
  attempt: 'Attempt',
  claim: 'Claim',
  reversal: 'Reversal',
  cancellation: 'Cancellation',
  block: 'Block',
  lockout: 'Lockout',
  audit: 'Change',
};

/** True for entries that explain why something failed (drawn in red). */
export function isBadEvent(event: TimelineEvent): boolean {
  return (
    (event.type === 'attempt' && /failed/.test(event.summary)) ||
    ['cancellation', 'block', 'lockout'].includes(event.type)
  );
}

/** One timeline entry as a sentence. */
export function eventSentence(event: TimelineEvent, audit: AuditEvent[]): string {
  switch (event.type) {
    case 'attempt': {
      const failed = /failed: ([a-z_]+)$/.exec(event.summary);
      const text = capital(event.summary);
      return failed ? `${text} — ${reasonText(failed[1])}` : text;
    }
    case 'claim':
      return `Code ${event.summary}.`;
    case 'cancellation':
      return `Code ${event.summary.replace(' cancelled', ' was cancelled')}`;
    case 'block':
      return `Customer ${event.summary}`;
    case 'lockout': {
      const row = audit.find((a) => a.id === event.ref?.audit_id);
      const until = (row?.after as { locked_out_until?: string } | null)?.locked_out_until;
      return row
        ? `Customer ${row.entity_id} was locked out until ${at(until)} for trying too many unknown codes.`
        : event.summary;
    }
    case 'audit': {
      const row = audit.find((a) => a.id === event.ref?.audit_id);
      if (!row) return capital(event.summary);
      const what = ACTIONS[row.action] ?? capital(row.action.replace(/[._]/g, ' '));
      const reason = (row.after as { reason?: string; cancel_reason?: string } | null)?.cancel_reason;
      return `${what}: ${row.entity_type.replace(/_/g, ' ')} ${row.entity_id}, by ${row.actor}${reason ? ` (“${reason}”)` : ''}.`;
    }
    default:
      return capital(event.summary);
  }
}
