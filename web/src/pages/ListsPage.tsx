// Promo Code Lists: every list with its status and figures; sorted, searched and filtered by
// the service (GET /v1/lists), paged with "Load more". Filters live in the URL so that Back
// returns to the same view.
import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap, type ListQuery, type ListStatus, type ListType, type PromoList } from '../api';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import { formatCount, formatDate } from '../format';
import { StatusTag } from '../components/StatusTag';
import { Empty, ErrorMessage, Loading, describeError } from '../components/Feedback';
import { Field } from '../components/Field';
import { STATUS_LABELS, TYPE_LABELS, completedReason } from './lists/labels';
import { PAGES, listPath } from '../paths';

/** The columns one can sort by: orders GET /v1/lists knows. */
type SortKey = Exclude<NonNullable<ListQuery['sort']>, 'created_at'>;

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: 'name', label: 'Name' },
  { key: 'type', label: 'Type' },
  { key: 'status', label: 'Status' },
  { key: 'starts_at', label: 'Start' },
  { key: 'ends_at', label: 'End' },
  { key: 'claim_count', label: 'Claims', numeric: true },
  { key: 'entry_cap', label: 'Entry cap', numeric: true },
  { key: 'code_count', label: 'Codes', numeric: true },
];

const PAGE_SIZE = 50;

export function ListsPage() {
  const { can } = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const type = params.get('type') ?? '';
  const status = params.get('status') ?? '';
  const sort = params.get('sort') ?? '';
  const order = params.get('order') === 'desc' ? 'desc' : 'asc';
  const filtered = q !== '' || type !== '' || status !== '';

  const [search, setSearch] = useState(q);
  // Follow the URL when it changes from elsewhere (Clear filters, Back), not while typing.
  useEffect(() => {
    setSearch((typed) => (typed.trim() === q ? typed : q));
  }, [q]);
  // The name search waits for a pause in typing before it asks the service.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only typing starts the wait; a URL change must not
  useEffect(() => {
    if (search.trim() === q) return;
    const timer = setTimeout(() => update({ q: search.trim() }), 300);
    return () => clearTimeout(timer);
  }, [search]);

  function update(changes: Record<string, string>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setParams(next, { replace: true });
  }

  // The URL may hold any value; the service answers 400 validation_failed to one it does not know, shown as the error.
  const listQuery: ListQuery = {
    q: q || undefined,
    type: (type || undefined) as ListQuery['type'],
    status: (status || undefined) as ListQuery['status'],
    sort: (sort || undefined) as ListQuery['sort'],
    order: sort ? order : undefined,
    limit: PAGE_SIZE,
  };
  const first = useLoad(
    () => unwrap(api.GET('/v1/lists', { params: { query: listQuery } })),
    [q, type, status, sort, order],
  );
  const [more, setMore] = useState<{ items: PromoList[]; cursor: string | null } | null>(null);
  const [moreBusy, setMoreBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new first page drops the pages loaded after the old one
  useEffect(() => {
    setMore(null);
    setMoreError(null);
  }, [first.data]);

  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (first.data?.next_cursor ?? null);

  async function loadMore() {
    if (!cursor) return;
    setMoreBusy(true);
    setMoreError(null);
    try {
      const page = await unwrap(api.GET('/v1/lists', { params: { query: { ...listQuery, cursor } } }));
      setMore((previous) => ({ items: [...(previous?.items ?? []), ...page.items], cursor: page.next_cursor }));
    } catch (failure) {
      setMoreError(failure);
    } finally {
      setMoreBusy(false);
    }
  }

  function sortBy(key: SortKey) {
    if (sort === key) update({ sort: key, order: order === 'asc' ? 'desc' : 'asc' });
    else update({ sort: key, order: 'asc' });
  }

  const createButton = (
    <button type="button" className="primary" onClick={() => navigate(PAGES.newList)}>
      Create promo code list
    </button>
  );
  const nothingYet = !!first.data && !first.error && items.length === 0 && !filtered;

  return (
    <section>
      <div className="page-head">
        <h1>Promo code lists</h1>
        {can('admin') && !nothingYet && createButton}
      </div>

      <div className="toolbar lists-toolbar" role="search">
        <Field label="Search lists">
          {(props) => (
            <input
              {...props}
              type="search"
              className="lists-search"
              placeholder="Part of a name"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          )}
        </Field>
        <Field label="Type">
          {(props) => (
            <select {...props} value={type} onChange={(e) => update({ type: e.target.value })}>
              <option value="">All types</option>
              {(Object.keys(TYPE_LABELS) as ListType[]).map((value) => (
                <option key={value} value={value}>
                  {TYPE_LABELS[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(props) => (
            <select {...props} value={status} onChange={(e) => update({ status: e.target.value })}>
              <option value="">All statuses</option>
              {(Object.keys(STATUS_LABELS) as ListStatus[]).map((value) => (
                <option key={value} value={value}>
                  {STATUS_LABELS[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
        {filtered && (
          <button type="button" className="secondary" onClick={() => update({ q: '', type: '', status: '' })}>
            Clear filters
          </button>
        )}
      </div>

      <ErrorMessage error={first.error} onRetry={first.reload} />
      {!first.data && first.loading && <Loading what="Loading lists" />}

      {nothingYet && (
        <Empty title="No promo code lists yet">
          {can('admin') ? (
            <>
              <p>A list holds codes and says what customers get when they claim one.</p>
              {createButton}
            </>
          ) : (
            <p>An administrator creates promo code lists; they will show up here.</p>
          )}
        </Empty>
      )}
      {first.data && !first.error && items.length === 0 && filtered && (
        <Empty title="No lists match">
          <p>Nothing matches this search and these filters. Change them, or use “Clear filters” to see every list.</p>
        </Empty>
      )}

      {items.length > 0 && (
        <table className="lists-table" aria-busy={first.loading}>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th
                  key={column.key}
                  scope="col"
                  className={column.numeric ? 'num' : undefined}
                  aria-sort={sort === column.key ? (order === 'asc' ? 'ascending' : 'descending') : undefined}
                >
                  <button type="button" className="sort" onClick={() => sortBy(column.key)}>
                    {column.label}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((list) => (
              <tr key={list.id}>
                <td>
                  <Link to={listPath(list.id)}>{list.name}</Link>
                </td>
                <td>{TYPE_LABELS[list.type]}</td>
                <td>
                  <StatusTag status={list.status} title={completedReason(list)} />
                </td>
                <td>{formatDate(list.starts_at)}</td>
                <td>{list.ends_at ? formatDate(list.ends_at) : <span className="muted">No end</span>}</td>
                <td className="num">{formatCount(list.claim_count)}</td>
                <td className="num">{formatCount(list.entry_cap)}</td>
                <td className="num">{formatCount(list.code_count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {moreError ? (
        <div className="alert error" role="alert">
          {describeError(moreError)}
        </div>
      ) : null}
      {cursor && items.length > 0 && (
        <div className="lists-more">
          <button type="button" className="secondary" onClick={() => void loadMore()} disabled={moreBusy}>
            {moreBusy ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}
