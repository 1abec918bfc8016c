// The code half of a troubleshooting report: its status and why, its list and where it came from.
import { Link } from 'react-router';
import { StatusTag } from '../../components/StatusTag';
import { formatCount } from '../../format';
import { Time } from '../../components/Time';
import { sourceText } from '../codes/CodeCard';
import { listTypeLabel } from '../lists/labels';
import type { TroubleshootReport } from '../../api';
import { codePath, customerPath, listPath } from '../../paths';

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
            <Link className="mono" to={codePath(code.normalized)}>
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
                Claimed by <Link to={customerPath(code.claimed_by ?? '')}>{code.claimed_by}</Link>{' '}
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
            <Link to={listPath(code.list.id)}>{code.list.name}</Link> <StatusTag status={code.list.status} />{' '}
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
