// Claims of a code or of a customer, each with a "Reverse" button while it is live.
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type ClaimRecord } from '../../api';
import { useSession } from '../../session';
import { Empty } from '../../components/Feedback';
import { StatusTag } from '../../components/StatusTag';
import type { Action } from '../../components/Notice';
import { describeOutcome } from '../../domain';
import { ReasonConfirm } from '../../components/ReasonConfirm';
import { Time } from '../../components/Time';
import { codePath, customerPath, listPath } from '../../paths';

export function ClaimsTable({
  claims,
  action,
  onChanged,
  showCode = true,
  showCustomer = true,
  caption,
  empty,
}: {
  claims: ClaimRecord[];
  action: Action;
  onChanged: () => void;
  showCode?: boolean;
  showCustomer?: boolean;
  caption: string;
  empty: string;
}) {
  const { can } = useSession();
  const [reversing, setReversing] = useState<ClaimRecord | null>(null);

  if (claims.length === 0) return <Empty title="No claims yet">{empty}</Empty>;

  async function reverse(claim: ClaimRecord, reason: string) {
    await action.run(
      () =>
        unwrap(
          api.POST('/v1/claims/{id}/reversal', {
            params: { path: { id: claim.id } },
            body: { reason: reason || 'Reversed from the dashboard' },
          }),
        ),
      `Claim ${claim.id} of ${claim.code} by ${claim.customer_id} was reversed.`,
    );
    setReversing(null);
    onChanged(); // also after a refusal: the page may be stale
  }

  return (
    <>
      <table>
        <caption className="ops-caption">{caption}</caption>
        <thead>
          <tr>
            {showCode && <th scope="col">Code</th>}
            <th scope="col">List</th>
            {showCustomer && <th scope="col">Customer</th>}
            <th scope="col">Claimed</th>
            <th scope="col">Outcome</th>
            <th scope="col">State</th>
            {can('agent') && (
              <th scope="col">
                <span className="ops-sr">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {claims.map((claim) => (
            <tr key={claim.id}>
              {showCode && (
                <td>
                  <Link className="mono" to={codePath(claim.code)}>
                    {claim.code}
                  </Link>
                </td>
              )}
              <td>
                <Link to={listPath(claim.list_id)}>{claim.list_name}</Link>
              </td>
              {showCustomer && (
                <td>
                  <Link to={customerPath(claim.customer_id)}>{claim.customer_id}</Link>
                </td>
              )}
              <td>
                <Time at={claim.claimed_at} />
              </td>
              <td>{describeOutcome(claim.outcome)}</td>
              <td>
                {claim.reversed ? (
                  <>
                    <StatusTag status="reversed" />
                    <div className="ops-small muted">
                      <Time at={claim.reversed_at} />
                      {claim.reversed_by && <> by {claim.reversed_by}</>}
                      {claim.reversal_reason && <> · {claim.reversal_reason}</>}
                    </div>
                  </>
                ) : (
                  <StatusTag status="active" title="The claim stands" />
                )}
              </td>
              {can('agent') && (
                <td className="ops-right">
                  {!claim.reversed && (
                    <button
                      type="button"
                      className="secondary small"
                      title={`Reverse claim ${claim.id}`}
                      onClick={() => setReversing(claim)}
                      disabled={action.busy}
                    >
                      Reverse
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {reversing && (
        <ReasonConfirm
          title="Reverse this claim?"
          confirmLabel="Reverse claim"
          busy={action.busy}
          onClose={() => setReversing(null)}
          onConfirm={(reason) => void reverse(reversing, reason)}
        >
          <p>
            Claim {reversing.id}: <span className="mono">{reversing.code}</span> by {reversing.customer_id},{' '}
            <Time at={reversing.claimed_at} />.
          </p>
          <p>
            {reversing.list_type === 'multi_use'
              ? 'Points are debited, offers revoked, tags removed and the use given back to the list.'
              : 'Points are debited, offers revoked, tags removed and the code freed.'}{' '}
            This can&apos;t be undone.
          </p>
        </ReasonConfirm>
      )}
    </>
  );
}
