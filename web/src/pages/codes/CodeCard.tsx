// One code found by its value: list, source, status, claims, and "Cancel code" while it can be.
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type CodeDetail } from '../../api';
import { useSession } from '../../session';
import { StatusTag } from '../../components/StatusTag';
import { formatCount } from '../../format';
import { listTypeLabel } from '../lists/labels';
import { ClaimsTable } from '../claims/ClaimsTable';
import type { Action } from '../../components/Notice';
import { ReasonConfirm } from '../../components/ReasonConfirm';
import { Time } from '../../components/Time';
import { customerPath, listPath, troubleshootPath } from '../../paths';

export function sourceText(code: CodeDetail): string {
  const source = code.source;
  if (!source) return code.list.type === 'multi_use' ? "The list's named code" : '—';
  const noun = source.type === 'batch' ? 'Batch' : source.type === 'import' ? 'Upload' : source.type;
  return `${noun} ${source.id}${source.name ? ` “${source.name}”` : ''}`;
}

function statusWhy(code: CodeDetail) {
  if (code.status === 'cancelled')
    return (
      <>
        Cancelled <Time at={code.cancelled_at} />
        {code.cancel_reason && <> — {code.cancel_reason}</>}
      </>
    );
  if (code.status === 'claimed')
    return (
      <>
        Claimed by <Link to={customerPath(code.claimed_by ?? '')}>{code.claimed_by}</Link> <Time at={code.claimed_at} />
      </>
    );
  if (code.list.type === 'multi_use')
    return <>Claimable by each customer once, {formatCount(code.claim_count)} live claims so far</>;
  return <>Not claimed yet</>;
}

export function CodeCard({ code, action, onChanged }: { code: CodeDetail; action: Action; onChanged: () => void }) {
  const { can } = useSession();
  const [confirming, setConfirming] = useState(false);
  const multi = code.list.type === 'multi_use';
  const cancellable = !multi && code.status === 'available' && can('agent');

  async function cancel(reason: string) {
    await action.run(
      () =>
        unwrap(
          api.POST('/v1/codes/{code}/cancel', {
            params: { path: { code: code.normalized } },
            body: { reason: reason || 'Cancelled from the dashboard' },
          }),
        ),
      `Code ${code.code} was cancelled. It can no longer be claimed.`,
    );
    setConfirming(false);
    onChanged(); // also after a refusal: the page may be stale
  }

  return (
    <section className="card" aria-labelledby="code-title">
      <div className="ops-card-head">
        <div>
          <h2 id="code-title" className="mono ops-code">
            {code.code}
          </h2>
          <StatusTag status={code.status} />
        </div>
        <div className="ops-buttons">
          {multi && (
            <Link className="button" to={listPath(code.list.id)}>
              Open list “{code.list.name}”
            </Link>
          )}
          {cancellable && (
            <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={action.busy}>
              Cancel code
            </button>
          )}
          <Link className="button" to={troubleshootPath({ code: code.normalized })}>
            Troubleshoot
          </Link>
        </div>
      </div>
      <dl className="facts">
        <dt>Normalized</dt>
        <dd className="mono">{code.normalized}</dd>
        <dt>Status</dt>
        <dd>{statusWhy(code)}</dd>
        <dt>List</dt>
        <dd>
          <Link to={listPath(code.list.id)}>{code.list.name}</Link>{' '}
          <StatusTag status={code.list.status} title={code.list.completed_reason ?? undefined} />
          {code.list.completed_reason && (
            <span className="muted"> ({code.list.completed_reason === 'cap_reached' ? 'cap reached' : 'ended'})</span>
          )}
        </dd>
        <dt>Type</dt>
        <dd>{listTypeLabel(code.list.type)}</dd>
        <dt>Source</dt>
        <dd>
          {sourceText(code)}
          {code.source && (
            <span className="muted">
              {' '}
              · created <Time at={code.source.created_at} />
              {code.source.created_by && <> by {code.source.created_by}</>}
            </span>
          )}
        </dd>
        {multi && (
          <>
            <dt>Claims of the list</dt>
            <dd>
              {formatCount(code.list.claim_count)} of {formatCount(code.list.redemption_cap)}
            </dd>
          </>
        )}
      </dl>
      {multi && (
        <p className="muted ops-note">
          A multi-use code cannot be cancelled; end the list or lower its cap from the list page instead.
        </p>
      )}
      {!multi && code.status === 'claimed' && (
        <p className="muted ops-note">A claimed code cannot be cancelled; reverse its claim first if it was wrong.</p>
      )}

      <h3 className="ops-section">
        Claims
        {multi && code.claim_count > code.claims.length
          ? ` (latest ${code.claims.length} of ${formatCount(code.claim_count)})`
          : ''}
      </h3>
      <ClaimsTable
        claims={code.claims}
        action={action}
        onChanged={onChanged}
        showCode={false}
        caption={`Claims of ${code.code}`}
        empty="Nobody has claimed this code."
      />

      {confirming && (
        <ReasonConfirm
          title="Cancel this code?"
          confirmLabel="Cancel code"
          busy={action.busy}
          onClose={() => setConfirming(false)}
          onConfirm={(reason) => void cancel(reason)}
        >
          <p>
            <span className="mono">{code.code}</span> in “{code.list.name}”.
          </p>
          <p>The code can no longer be claimed. This can&apos;t be undone.</p>
        </ReasonConfirm>
      )}
    </section>
  );
}
