// A single-use list's batches (GET /v1/lists/:id/batches), newest first, with live progress while
// any batch is still being generated, and the exports of finished batches.
import { useRef, useState } from 'react';
import { api, unwrap, type PromoList } from '../../api';
import { useInterval, useLoad, useSettled } from '../../hooks';
import { useSession } from '../../session';
import { formatCount, formatDate } from '../../format';
import { StatusTag } from '../../components/StatusTag';
import { Empty, ErrorMessage, Loading } from '../../components/Feedback';
import { GenerateCodesModal } from './GenerateCodesModal';
import { Progress } from '../../components/Progress';
import { CHARSET_LABELS } from './codeFormat';
import { ExportLinks } from './ExportLinks';

export function BatchLog({ list, onProgress }: { list: PromoList; onProgress: () => void }) {
  const { can } = useSession();
  const [generating, setGenerating] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const closeModal = () => {
    setGenerating(false);
    setTimeout(() => trigger.current?.focus(), 0); // once the dialog is gone and the page is no longer inert
  };
  const batches = useLoad(
    () => unwrap(api.GET('/v1/lists/{id}/batches', { params: { path: { id: list.id }, query: { limit: 100 } } })),
    [list.id],
  );
  const items = batches.data?.items ?? [];
  const running = items.some((batch) => batch.status === 'pending');
  useInterval(
    () => {
      batches.reload();
      onProgress();
    },
    1500,
    running,
  );
  useSettled(running, onProgress);
  const closed = list.status === 'completed';

  return (
    <section className="card" aria-labelledby="batches-title">
      <div className="page-head">
        <h2 id="batches-title">Batch log</h2>
        {can('admin') && (
          <button
            ref={trigger}
            type="button"
            className="primary"
            onClick={() => setGenerating(true)}
            disabled={closed}
            title={closed ? 'The list is completed' : undefined}
          >
            Generate codes
          </button>
        )}
      </div>
      {closed && can('admin') && (
        <p className="muted">This list is completed, so no new codes can be generated for it.</p>
      )}
      <ErrorMessage error={batches.error} onRetry={batches.reload} />
      {!batches.data && batches.loading && <Loading what="Loading batches" />}
      {batches.data && items.length === 0 && (
        <Empty title="No codes yet">
          {can('admin')
            ? 'Generate a batch of single-use codes to fill this list.'
            : 'An administrator generates codes for this list.'}
        </Empty>
      )}
      {items.length > 0 && (
        <table className="lists-jobs">
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col" className="num">
                Codes
              </th>
              <th scope="col">Progress</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              {can('admin') && <th scope="col">Export</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((batch) => (
              <tr key={batch.id}>
                <td>
                  <div>{batch.name ?? <span className="muted">Batch {batch.id}</span>}</div>
                  <small className="muted mono" title={CHARSET_LABELS[batch.format.charset]}>
                    {batch.format.prefix}
                    {'•'.repeat(Math.min(batch.format.length, 12))}
                    {batch.format.suffix} · {batch.format.length} {batch.format.charset}
                  </small>
                </td>
                <td className="num">{formatCount(batch.requested)}</td>
                <td>
                  <Progress done={batch.generated} total={batch.requested} label={`Batch ${batch.name ?? batch.id}`} />
                </td>
                <td>
                  <StatusTag
                    status={batch.status}
                    title={
                      batch.status === 'active'
                        ? 'Every code exists'
                        : batch.status === 'pending'
                          ? 'Generating'
                          : undefined
                    }
                  />
                  {batch.error && <div className="field-error">{batch.error}</div>}
                </td>
                <td>
                  {formatDate(batch.created_at)}
                  {batch.notify.length > 0 && (
                    <div className="muted" title={batch.notify.join(', ')}>
                      Alert: {batch.notify.length === 1 ? batch.notify[0] : `${batch.notify.length} addresses`}
                    </div>
                  )}
                </td>
                {can('admin') && (
                  <td>
                    {batch.status === 'active' ? (
                      <ExportLinks kind="batches" id={batch.id} />
                    ) : (
                      <span className="muted">{batch.status === 'pending' ? 'When ready' : '—'}</span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {batches.data?.next_cursor && <p className="muted">Showing the newest {items.length} batches.</p>}
      {generating && (
        <GenerateCodesModal
          listId={list.id}
          onClose={closeModal}
          onCreated={() => {
            closeModal();
            batches.reload();
            onProgress();
          }}
        />
      )}
    </section>
  );
}
