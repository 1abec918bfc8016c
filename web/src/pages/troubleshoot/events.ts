// Timeline entries of a troubleshooting report in words: their kind as a label, and a sentence
// with the audit log's facts (who changed what, the reason given).
import type { AuditEvent, TimelineEvent } from '../../api';
import { dateInText as at } from '../../format';
import { reasonText } from '../../refusals';

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
      const entity = `${row.entity_type.replace(/_/g, ' ')} ${row.entity_id}`;
      return `${what}: ${entity}, by ${row.actor}${reason ? ` (“${reason}”)` : ''}.`;
    }
    default:
      return capital(event.summary);
  }
}
