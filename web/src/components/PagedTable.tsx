// A collection read page by page: its error, loading and empty states, the table, and "Load more".
import type { ReactNode } from 'react';
import { ErrorMessage, Loading } from './Feedback';

/** What `usePaged` (pages/ops/common.tsx) gives. */
export interface PagedView<T> {
  items: T[];
  next: string | null;
  loading: boolean;
  error: unknown;
  reload: () => void;
  loadMore: () => void;
}

export function LoadMore({ paged }: { paged: Pick<PagedView<unknown>, 'next' | 'loading' | 'loadMore'> }) {
  if (!paged.next) return null;
  return (
    <div className="ops-more">
      <button type="button" className="secondary" onClick={paged.loadMore} disabled={paged.loading}>
        {paged.loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}

/**
 * The rows of `paged` in a table with `columns` as headers (plus a last "Actions" header, for
 * screen readers only, when `actions` is set), or the error, "Loading…" or `empty` instead.
 */
export function PagedTable<T>({
  paged,
  columns,
  actions,
  empty,
  loading,
  row,
}: {
  paged: PagedView<T>;
  columns: string[];
  actions?: boolean;
  empty: ReactNode;
  loading?: string;
  row: (item: T) => ReactNode;
}) {
  return (
    <>
      {paged.error ? (
        <ErrorMessage error={paged.error} onRetry={paged.reload} />
      ) : paged.loading && paged.items.length === 0 ? (
        <Loading what={loading} />
      ) : paged.items.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column} scope="col">
                  {column}
                </th>
              ))}
              {actions && (
                <th scope="col">
                  <span className="ops-sr">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>{paged.items.map(row)}</tbody>
        </table>
      )}
      <LoadMore paged={paged} />
    </>
  );
}
