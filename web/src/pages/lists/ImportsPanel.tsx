// A third-party list's uploads: send a CSV, text or .xlsx file with upload progress
// (POST /v1/lists/:id/imports, multipart), then the imports with live counts while processing,
// the rejected rows (a table, and the CSV report) and the exports.
import { Fragment, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, unwrap, uploadImport, type PromoList } from '../../api';
import { useInterval, useLoad, useSettled } from '../../hooks';
import { useSession } from '../../session';
import { formatCount, formatDate } from '../../format';
import { splitEmails } from '../../domain';
import { StatusTag } from '../../components/StatusTag';
import { Field } from '../../components/Field';
import { Empty, ErrorMessage, Loading } from '../../components/Feedback';
import { Progress } from '../../components/Progress';
import { RejectedRows } from './RejectedRows';
import { ExportLinks } from './ExportLinks';
import { NAME_MAX } from '../../../../src/http/limits';

/** What the file picker offers: text files of codes and .xlsx workbooks. */
const ACCEPTED_FILES = [
  '.csv',
  '.txt',
  '.tsv',
  '.xlsx',
  'text/csv',
  'text/plain',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
].join(',');

export function ImportsPanel({ list, onProgress }: { list: PromoList; onProgress: () => void }) {
  const { can } = useSession();
  const imports = useLoad(
    () => unwrap(api.GET('/v1/lists/{id}/imports', { params: { path: { id: list.id }, query: { limit: 100 } } })),
    [list.id],
  );
  const items = imports.data?.items ?? [];
  const running = items.some((item) => item.status === 'pending');
  useInterval(
    () => {
      imports.reload();
      onProgress();
    },
    1500,
    running,
  );
  useSettled(running, onProgress);
  // An import alert links here with ?rejected=<import id>: that import's rejected rows open.
  const [search] = useSearchParams();
  const [opened, setOpened] = useState<string | null>(search.get('rejected'));

  return (
    <section className="card" aria-labelledby="imports-title">
      <h2 id="imports-title">Uploaded codes</h2>
      {can('admin') &&
        (list.status === 'completed' ? (
          <p className="muted">This list is completed, so no more codes can be uploaded to it.</p>
        ) : (
          <UploadForm
            listId={list.id}
            onUploaded={() => {
              imports.reload();
              onProgress();
            }}
          />
        ))}
      <ErrorMessage error={imports.error} onRetry={imports.reload} />
      {!imports.data && imports.loading && <Loading what="Loading imports" />}
      {imports.data && items.length === 0 && (
        <Empty title="No codes uploaded yet">
          {can('admin')
            ? 'Upload the file of codes you received from the provider.'
            : 'An administrator uploads the codes for this list.'}
        </Empty>
      )}
      {items.length > 0 && (
        <table className="lists-jobs">
          <thead>
            <tr>
              <th scope="col">Upload</th>
              <th scope="col">Status</th>
              <th scope="col">Processed</th>
              <th scope="col" className="num">
                Accepted
              </th>
              <th scope="col" className="num">
                Rejected
              </th>
              <th scope="col">Created</th>
              <th scope="col">Files</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <Fragment key={item.id}>
                <tr>
                  <td>{item.name ?? <span className="muted">Import {item.id}</span>}</td>
                  <td>
                    <StatusTag status={item.status} title={item.status === 'pending' ? 'Processing' : undefined} />
                    {item.error && <div className="field-error">{item.error}</div>}
                  </td>
                  <td>
                    <Progress
                      done={item.accepted + item.rejected}
                      total={item.total_lines}
                      label={`Import ${item.name ?? item.id}`}
                    />
                  </td>
                  <td className="num">{formatCount(item.accepted)}</td>
                  <td className="num">{formatCount(item.rejected)}</td>
                  <td>{formatDate(item.created_at)}</td>
                  <td>
                    <div className="lists-files">
                      {item.rejected > 0 && item.status !== 'pending' && (
                        <button
                          type="button"
                          className="link"
                          aria-expanded={opened === item.id}
                          onClick={() => setOpened(opened === item.id ? null : item.id)}
                        >
                          {opened === item.id ? 'Hide rejected rows' : 'Show rejected rows'}
                        </button>
                      )}
                      {item.rejected > 0 && (
                        <a href={`/v1/imports/${encodeURIComponent(item.id)}/report`} download>
                          Rejected rows report
                        </a>
                      )}
                      {item.status === 'active' && can('admin') && <ExportLinks kind="imports" id={item.id} />}
                      {item.rejected === 0 && !(item.status === 'active' && can('admin')) && (
                        <span className="muted">—</span>
                      )}
                    </div>
                  </td>
                </tr>
                {opened === item.id && (
                  <tr>
                    <td colSpan={7}>
                      <RejectedRows item={item} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {imports.data?.next_cursor && <p className="muted">Showing the newest {items.length} uploads.</p>}
    </section>
  );
}

function UploadForm({ listId, onUploaded }: { listId: string; onUploaded: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [notify, setNotify] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    setDone(null);
    if (!file) {
      setMissing(true);
      return;
    }
    setProgress(0);
    try {
      const created = await uploadImport(
        listId,
        file,
        { name: name.trim() || file.name.slice(0, 200), notify: splitEmails(notify).join(',') },
        setProgress,
      );
      setDone(`${created.name ?? file.name} is uploaded; its codes are being checked and added.`);
      setFile(null);
      setName('');
      if (input.current) input.current.value = '';
      onUploaded();
    } catch (caught) {
      setFailure(caught);
    } finally {
      setProgress(null);
    }
  }

  const busy = progress !== null;
  return (
    <form className="lists-upload" onSubmit={submit} noValidate>
      <div className="lists-upload-fields">
        <Field
          label="File of codes"
          error={missing && !file ? 'Choose a file to upload.' : undefined}
          hint="CSV or text (a column headed code, coupon or voucher, else the first), or an Excel .xlsx workbook."
        >
          {(props) => (
            <input
              {...props}
              ref={input}
              type="file"
              accept={ACCEPTED_FILES}
              disabled={busy}
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                setMissing(false);
              }}
            />
          )}
        </Field>
        <Field label="Upload name" hint="Optional; the file name otherwise.">
          {(props) => (
            <input
              {...props}
              type="text"
              maxLength={NAME_MAX}
              disabled={busy}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Email alert" hint="Optional addresses, comma-separated.">
          {(props) => (
            <input
              {...props}
              type="text"
              inputMode="email"
              disabled={busy}
              value={notify}
              onChange={(e) => setNotify(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
      {progress !== null && (
        <Progress
          done={Math.round(progress * 100)}
          total={100}
          label="Upload"
          text={`${Math.round(progress * 100)}% uploaded`}
        />
      )}
      <ErrorMessage error={failure} />
      {done && (
        <div className="alert ok" role="status">
          {done}
        </div>
      )}
    </form>
  );
}
