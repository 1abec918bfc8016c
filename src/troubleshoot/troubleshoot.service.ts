// "My code doesn't work": one report on a code and/or a customer. The verdict comes from the
// claim function itself (kind 'verdict'), so it is what a claim would answer right now, by
// the same rules, with nothing written.
import type { Config } from '../config';
import type { Queryable } from '../db/pool';
import { DomainError, invalid } from '../http/errors';
import { lockoutRules, refusalError, verdict as claimVerdict } from '../claims/claims.service';
import { listAttempts, listCustomerClaims, type AttemptRow } from '../claims/claims.sql';
import type { ClaimRecord } from '../claims/claims.schema';
import { lookupCode } from '../codes/lookup.service';
import { normalizeCode } from '../codes/normalize';
import { getClaimLimits } from '../settings/settings.service';
import { auditOfEntities, type AuditRow } from '../audit/audit.service';
import { customerState } from './troubleshoot.sql';

const SHOWN = 50;

type CodeReport = Awaited<ReturnType<typeof lookupCode>>;

interface TimelineEvent {
  at: Date | string;
  type: 'code_created' | 'attempt' | 'claim' | 'reversal' | 'cancellation' | 'block' | 'lockout' | 'audit';
  summary: string;
  ref?: Record<string, string | null>;
}

function listWhy(list: CodeReport['list']): string {
  const iso = (t: Date | string) => new Date(t).toISOString();
  if (list.status === 'pending') return `pending: starts at ${iso(list.starts_at)}`;
  if (list.completed_reason === 'ended') return `completed: ended at ${iso(list.ends_at!)}`;
  if (list.completed_reason === 'cap_reached') return `completed: reached its cap of ${list.redemption_cap} claims`;
  const end = list.ends_at ? `until ${iso(list.ends_at)}` : 'with no end';
  return `active ${end}; ${list.claim_count} of ${list.redemption_cap ?? 'unlimited'} claims`;
}

async function findCodeOrNull(db: Queryable, code: string) {
  try {
    return await lookupCode(db, code);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'code_not_found') return null;
    throw error;
  }
}

const byIdDesc = <T extends { id: string }>(rows: T[]) =>
  [...new Map(rows.map((r) => [r.id, r])).values()].sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));

export async function troubleshoot(
  db: Queryable,
  config: Readonly<Config>,
  query: { code?: string; customer_id?: string },
) {
  if (query.code === undefined && query.customer_id === undefined) {
    throw invalid([{ path: 'querystring', message: 'give code, customer_id or both' }]);
  }
  const normalized = query.code === undefined ? null : normalizeCode(query.code);
  const customerId = query.customer_id ?? null;
  const rules = lockoutRules(config);

  const [code, customer, limits, result] = await Promise.all([
    normalized === null ? null : findCodeOrNull(db, normalized),
    customerId === null ? undefined : customerState(db, customerId, rules.windowSeconds),
    getClaimLimits(db),
    normalized === null || customerId === null ? null : claimVerdict(db, rules, normalized, customerId),
  ]);

  let verdict = null;
  if (result) {
    if (result.error) {
      const error = refusalError(result);
      verdict = {
        would_succeed: false,
        status: error.status,
        error: result.error,
        message: error.message,
        details: error.details ?? null,
      };
    } else {
      verdict = {
        would_succeed: true,
        status: 201,
        error: null,
        message: 'a claim now would succeed and issue the list outcome',
        details: null,
      };
    }
  }

  const [codeAttempts, customerAttempts, customerClaims] = await Promise.all([
    normalized === null ? [] : listAttempts(db, { code: normalized }, null, SHOWN),
    customerId === null ? [] : listAttempts(db, { customerId }, null, SHOWN),
    customerId === null ? [] : listCustomerClaims(db, customerId, null, SHOWN),
  ]);
  const attempts: AttemptRow[] = byIdDesc([...codeAttempts, ...customerAttempts]);
  const claims: ClaimRecord[] = byIdDesc([...(code?.claims ?? []), ...customerClaims]);

  const entities = [
    ...(code
      ? [
          { type: 'code', id: code.normalized },
          { type: 'list', id: code.list.id },
        ]
      : []),
    ...(code?.source ? [{ type: code.source.type, id: code.source.id }] : []),
    ...(customerId !== null ? [{ type: 'customer', id: customerId }] : []),
    ...claims.map((c) => ({ type: 'claim', id: c.id })),
  ];
  const audit = await auditOfEntities(db, entities, SHOWN);

  const customerReport =
    customerId === null
      ? null
      : {
          id: customerId,
          registered: customer !== undefined,
          blocked: Boolean(customer?.blocked_at),
          blocked_at: customer?.blocked_at ?? null,
          blocked_reason: customer?.blocked_reason ?? null,
          locked_out_until: customer?.locked_until && customer.locked_until > new Date() ? customer.locked_until : null,
          unknown_codes_in_window: customer?.unknown_codes ?? 0,
          lockout_threshold: rules.threshold,
          claims: {
            week: customer?.claims_week ?? 0,
            month: customer?.claims_month ?? 0,
            year: customer?.claims_year ?? 0,
          },
          limits,
        };

  return {
    query: { code: query.code ?? null, normalized_code: normalized, customer_id: customerId },
    code: code && { ...code, list: { ...code.list, why: listWhy(code.list) } },
    customer: customerReport,
    verdict,
    attempts,
    claims,
    audit,
    timeline: timeline(code, customer, attempts, claims, audit),
  };
}

function timeline(
  code: CodeReport | null,
  customer: Awaited<ReturnType<typeof customerState>>,
  attempts: AttemptRow[],
  claims: ClaimRecord[],
  audit: AuditRow[],
): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  if (code?.source) {
    events.push({
      at: code.source.created_at,
      type: 'code_created',
      summary:
        `${code.source.type} ${code.source.id}${code.source.name ? ` "${code.source.name}"` : ''} ` +
        `created by ${code.source.created_by ?? 'unknown'}`,
      ref: { [`${code.source.type}_id`]: code.source.id },
    });
  }
  // Each source comes newest first; walking it backwards keeps events of the same
  // millisecond in the order they happened (the sort below is stable).
  for (const a of [...attempts].reverse()) {
    const outcome = a.reason ? `failed: ${a.reason}` : 'succeeded';
    events.push({
      at: a.at,
      type: 'attempt',
      summary: `${a.kind} of ${a.code} by ${a.customer_id} ${outcome}`,
      ref: { customer_id: a.customer_id, code: a.code, claim_id: a.claim_id },
    });
  }
  for (const c of [...claims].reverse()) {
    events.push({
      at: c.claimed_at,
      type: 'claim',
      summary: `${c.code} claimed by ${c.customer_id} (claim ${c.id})`,
      ref: { claim_id: c.id, customer_id: c.customer_id },
    });
    if (c.reversed_at) {
      events.push({
        at: c.reversed_at,
        type: 'reversal',
        summary: `claim ${c.id} reversed by ${c.reversed_by}: ${c.reversal_reason}`,
        ref: { claim_id: c.id },
      });
    }
  }
  if (code?.cancelled_at)
    events.push({
      at: code.cancelled_at,
      type: 'cancellation',
      summary: `${code.normalized} cancelled: ${code.cancel_reason}`,
    });
  if (customer?.blocked_at)
    events.push({
      at: customer.blocked_at,
      type: 'block',
      summary: `${customer.id} blocked${customer.blocked_reason ? `: ${customer.blocked_reason}` : ''}`,
    });
  for (const e of [...audit].reverse()) {
    if (e.action === 'customer.lockout') {
      const until = new Date((e.after as { locked_out_until: string }).locked_out_until).toISOString();
      events.push({
        at: e.created_at,
        type: 'lockout',
        summary: `${e.entity_id} locked out until ${until} for too many unknown codes`,
        ref: { audit_id: e.id },
      });
    } else {
      events.push({
        at: e.created_at,
        type: 'audit',
        summary: `${e.action} on ${e.entity_type} ${e.entity_id} by ${e.actor}`,
        ref: { audit_id: e.id },
      });
    }
  }
  return events.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
}
