// The customer half of a troubleshooting report: blocked, locked out, claims against the limits,
// and the agent's actions on the customer.
import { Link } from 'react-router';
import type { TroubleshootReport } from '../../api';
import type { Action } from '../../components/Notice';
import { Time } from '../../components/Time';
import { formatCount } from '../../format';
import { CustomerActions } from '../customers/CustomerActions';
import { customerPath } from '../../paths';

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
              <Link to={customerPath(customer.id)}>{customer.id}</Link>
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
