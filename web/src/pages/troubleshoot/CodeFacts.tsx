// The parts of a troubleshooting report: code facts, customer state, and the timeline.
import { Link } from 'react-router';
import { StatusTag } from '../../components/StatusTag';
import { formatCount } from '../../format';
import { Time, type Action } from '../../components/Notice';
import { CustomerActions } from '../customers/CustomerActions';
import { listTypeLabel, sourceText } from '../codes/CodeCard';
import { EVENT_LABELS, eventSentence, isBadEvent } from '../../refusals';
import type { TroubleshootReport } from '../../api';

export function CodeFacts({ report }: { report: TroubleshootReport }) {
  const code = report.code;
  return (
    <section className="card" aria-labelledby="ts-code">
      <h2 id="ts-code">Code</h2>
      {!report.query.code ? (
        <p className="muted">No code given.</p>
      ) : !code ? (
        <p>
          No code <span className="mono">{report.query.code}</span> exists
          {report.query.normalized_code && report.query.normalized_code !== report.query.code && (
            <>
              {' '}
              (looked up as <span className="mono">{report.query.normalized_code}</span>)
            </>
          )}
          .
        </p>
      ) : (
        <dl className="facts">
          <dt>Code</dt>
          <dd>
            <Link className="mono" to={`/codes?code=${encodeURIComponent(code.normalized)}`}>
              {code.code}
            </Link>{' '}
            <StatusTag status={code.status} />
          </dd>
          <dt>Why</dt>
          <dd>
            {code.status === 'cancelled' && (
              <>
                Cancelled <Time at={code.cancelled_at} />
                {code.cancel_reason && <> — {code.cancel_reason}</>}
              </>
            )}
            {code.status === 'claimed' && (
              <>
                Claimed by <Link to={`/customers/${encodeURIComponent(code.claimed_by ?? '')}`}>{code.claimed_by}</Link>{' '}
                <Time at={code.claimed_at} />
              </>
            )}
            {code.status === 'available' &&
              (code.list.type === 'multi_use'
                ? `Claimable once per customer; ${formatCount(code.claim_count)} live claims`
                : 'Not claimed yet')}
          </dd>
          <dt>List</dt>
          <dd>
            <Link to={`/lists/${code.list.id}`}>{code.list.name}</Link> <StatusTag status={code.list.status} />{' '}
            <span className="muted">{listTypeLabel(code.list.type)}</span>
          </dd>
          <dt>List status</dt>
          <dd>{code.list.why}</dd>
          <dt>Source</dt>
          <dd>{sourceText(code)}</dd>
        </dl>
      )}
    </section>
  );
}

function limitRow(label: string, used: number, limit: number | null) {
  const reached = limit !== null && used >= limit;
  return (
    <>
      <dt>{label}</dt>
      <dd className={reached ? 'ops-bad' : undefined}>
        {limit === null ? `${formatCount(used)} (no limit)` : `${formatCount(used)} of ${formatCount(limit)}`}
        {reached && ' — limit reached'}
      </dd>
    </>
  );
}

export function CustomerFacts({
  report,
  action,
  onChanged,
}: {
  report: TroubleshootReport;
  action: Action;
  onChanged: () => void;
}) {
  const customer = report.customer;
  return (
    <section className="card" aria-labelledby="ts-customer">
      <h2 id="ts-customer">Customer</h2>
      {!customer ? (
        <p className="muted">No customer given.</p>
      ) : !customer.registered ? (
        <p>
          No registered customer has the ID <span className="mono">{customer.id}</span>. The app must register the
          customer before they can claim.
        </p>
      ) : (
        <>
          <dl className="facts">
            <dt>Customer</dt>
            <dd>
              <Link to={`/customers/${encodeURIComponent(customer.id)}`}>{customer.id}</Link>
            </dd>
            <dt>Blocked</dt>
            <dd className={customer.blocked ? 'ops-bad' : undefined}>
              {customer.blocked ? (
                <>
                  Yes, since <Time at={customer.blocked_at} />
                  {customer.blocked_reason && <> — {customer.blocked_reason}</>}
                </>
              ) : (
                'No'
              )}
            </dd>
            <dt>Lockout</dt>
            <dd className={customer.locked_out_until ? 'ops-bad' : undefined}>
              {customer.locked_out_until ? (
                <>
                  Locked out until <Time at={customer.locked_out_until} />
                </>
              ) : (
                'Not locked out'
              )}
            </dd>
            <dt>Unknown codes</dt>
            <dd>
              {customer.unknown_codes_in_window} of {customer.lockout_threshold} before a lockout
            </dd>
            {limitRow('Claims this week', customer.claims.week, customer.limits.per_week)}
            {limitRow('This month', customer.claims.month, customer.limits.per_month)}
            {limitRow('This year', customer.claims.year, customer.limits.per_year)}
          </dl>
          <CustomerActions
            customerId={customer.id}
            blocked={customer.blocked}
            lockedOutUntil={customer.locked_out_until}
            action={action}
            onChanged={onChanged}
          />
        </>
      )}
    </section>
  );
}

export function Timeline({ report }: { report: TroubleshootReport }) {
  return (
    <section className="card" aria-labelledby="ts-timeline">
      <h2 id="ts-timeline">
        What happened <span className="muted ops-small">(oldest first)</span>
      </h2>
      {report.timeline.length === 0 ? (
        <p className="muted">Nothing has happened yet: no attempts, claims or changes.</p>
      ) : (
        <ol className="timeline" aria-label="Timeline">
          {report.timeline.map((event, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the timeline is replaced whole, never reordered
            <li key={index} className={isBadEvent(event) ? 'bad' : undefined}>
              <Time at={event.at} precise />
              <span className="ops-event-kind">{EVENT_LABELS[event.type] ?? event.type}</span>{' '}
              {eventSentence(event, report.audit)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
