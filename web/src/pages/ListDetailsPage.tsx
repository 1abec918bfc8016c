// One promo code list (GET /v1/lists/:id): summary, figures and Edit, then by type the batch
// log (single-use), the uploads (third-party) or the one code and its claims (multi-use).
import { useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap, type PromoList } from '../api';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import { formatCount, formatDate } from '../format';
import { StatusTag } from '../components/StatusTag';
import { ErrorMessage, Loading } from '../components/Feedback';
import { BatchLog } from './lists/BatchLog';
import { ImportsPanel } from './lists/ImportsPanel';
import { EditListModal } from './lists/EditListModal';
import { Progress } from '../components/Progress';
import { useCatalog } from './lists/useCatalog';
import { describeOutcome } from '../domain';
import { TYPE_EXPLANATIONS, TYPE_LABELS, completedReason } from './lists/labels';
import { exportHref } from './lists/ExportLinks';
import { PAGES } from '../paths';

export function ListDetailsPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const list = useLoad(() => unwrap(api.GET('/v1/lists/{id}', { params: { path: { id } } })), [id]);
  const catalog = useCatalog();
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const closeEdit = () => {
    setEditing(false);
    setTimeout(() => editButton.current?.focus(), 0); // once the dialog is gone and the page is no longer inert
  };

  if (!list.data) {
    return (
      <section>
        <p>
          <Link to={PAGES.lists}>← Promo code lists</Link>
        </p>
        <ErrorMessage error={list.error} onRetry={list.reload} />
        {!list.error && <Loading what="Loading the list" />}
      </section>
    );
  }

  const data = list.data;
  return (
    <section>
      <p className="lists-crumb">
        <Link to={PAGES.lists}>← Promo code lists</Link>
      </p>
      <div className="page-head">
        <div className="lists-title">
          <h1>{data.name}</h1>
          <StatusTag status={data.status} title={completedReason(data)} />
        </div>
        {can('admin') && (
          <button
            ref={editButton}
            type="button"
            className="secondary"
            onClick={() => {
              setSaved(false);
              setEditing(true);
            }}
          >
            Edit
          </button>
        )}
      </div>
      {list.error ? <ErrorMessage error={list.error} onRetry={list.reload} /> : null}
      {saved && (
        <div className="alert ok" role="status">
          Changes saved.
        </div>
      )}

      <div className="lists-summary">
        <div className="card">
          <h2>Summary</h2>
          <dl className="facts">
            <dt>Type</dt>
            <dd>
              {TYPE_LABELS[data.type]} <span className="muted">— {TYPE_EXPLANATIONS[data.type]}</span>
            </dd>
            <dt>Description</dt>
            <dd>{data.description || <span className="muted">None</span>}</dd>
            <dt>Status</dt>
            <dd>{statusInWords(data)}</dd>
            <dt>Starts</dt>
            <dd>{formatDate(data.starts_at)}</dd>
            <dt>Ends</dt>
            <dd>{data.ends_at ? formatDate(data.ends_at) : 'No end date'}</dd>
            <dt>Claim cap</dt>
            <dd>{data.redemption_cap === null ? 'No cap' : `${formatCount(data.redemption_cap)} claims`}</dd>
            <dt>Outcome</dt>
            <dd>{describeOutcome(data.outcome, catalog.data?.offers)}</dd>
            <dt>Created</dt>
            <dd>{formatDate(data.created_at)}</dd>
          </dl>
        </div>
        <div>
          <div className="stats lists-stats">
            <Stat label="Claims" value={formatCount(data.claim_count)} />
            <Stat label="Codes" value={formatCount(data.code_count)} />
            <Stat label="Available" value={formatCount(data.available_count)} />
            <Stat label="Cancelled" value={formatCount(data.cancelled_count)} />
            <Stat
              label="Entry cap"
              value={formatCount(data.entry_cap)}
              title="Uses per code: 1 for single-use and third-party codes, the cap for a multi-use code"
            />
          </div>
          {can('admin') && data.code_count > 0 && (
            <div className="card lists-export-all">
              <h3>Export all codes</h3>
              <p className="muted">Every code of the list with its status, batch or upload, and who used it.</p>
              <div className="lists-export-buttons">
                <a className="button" href={exportHref('lists', data.id, 'xlsx')} download>
                  Export all codes as .xlsx
                </a>
                <a className="button" href={exportHref('lists', data.id, 'csv')} download>
                  Export all codes as .csv
                </a>
              </div>
            </div>
          )}
        </div>
      </div>

      {data.type === 'single_use' && <BatchLog list={data} onProgress={list.reload} />}
      {data.type === 'third_party' && <ImportsPanel list={data} onProgress={list.reload} />}
      {data.type === 'multi_use' && <MultiUseCode list={data} />}

      {editing && (
        <EditListModal
          list={data}
          onClose={closeEdit}
          onSaved={() => {
            closeEdit();
            setSaved(true);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function Stat({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div className="stat" title={title}>
      <div className="value">{value}</div>
      <div className="label">{label}</div>
    </div>
  );
}

function statusInWords(list: PromoList): string {
  if (list.status === 'pending') return `Opens for claims on ${formatDate(list.starts_at)}.`;
  if (list.status === 'active')
    return list.ends_at ? `Open for claims until ${formatDate(list.ends_at)}.` : 'Open for claims; no end date.';
  return list.completed_reason === 'cap_reached'
    ? 'The claim cap has been reached.'
    : `Ended ${formatDate(list.ends_at)}.`;
}

/** A multi-use list's one code and its claims against the cap. */
function MultiUseCode({ list }: { list: PromoList }) {
  const claimed =
    list.redemption_cap === null
      ? `${formatCount(list.claim_count)} claimed · no cap`
      : `${formatCount(list.claim_count)} of ${formatCount(list.redemption_cap)} claimed`;
  return (
    <section className="card" aria-labelledby="code-title">
      <h2 id="code-title">The code</h2>
      <p className="lists-code mono">{list.code}</p>
      <p className="muted">
        Any registered customer can claim it once
        {list.redemption_cap === null ? '.' : `, until ${formatCount(list.redemption_cap)} claims are reached.`}
      </p>
      {list.redemption_cap === null ? (
        <p className="lists-claimed">{claimed}</p>
      ) : (
        <div className="lists-claimed">
          <Progress done={list.claim_count} total={list.redemption_cap} label="Claims against the cap" text={claimed} />
        </div>
      )}
    </section>
  );
}
