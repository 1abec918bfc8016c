// A collection read page by page: the hook that reads it, and its table with error, loading and empty
// states and "Load more".
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ErrorMessage, Loading } from './Feedback';

/**
 * A collection read page by page (`next_cursor`), with "Load more": `load(cursor)` reads one page
 * (the first with no cursor); it is read again from the start when `key` changes or on `reload()`.
 */
export function usePaged<T>(
  key: string,
  load: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
) {
  const loader = useRef(load);
  loader.current = load;
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const current = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the loader is read through a ref; `key` alone starts over
  const fetchPage = useCallback(
    async (cursor: string | null, append: boolean) => {
      const mine = ++current.current;
      setLoading(true);
      try {
        const page = await loader.current(cursor || undefined);
        if (mine !== current.current) return;
        setItems((before) => (append ? [...before, ...page.items] : page.items));
        setNext(page.next_cursor);
        setError(null);
      } catch (failure) {
        if (mine === current.current) setError(failure);
      } finally {
        if (mine === current.current) setLoading(false);
      }
    },
    [key],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` is how reload() asks for the first page again
  useEffect(() => {
    setItems([]);
    setNext(null);
    setError(null);
    void fetchPage(null, false);
  }, [fetchPage, tick]);

  return {
    items,
    next,
    loading,
    error,
    reload: useCallback(() => setTick((n) => n + 1), []),
    loadMore: () => void fetchPage(next, true),
  };
}

/** What `usePaged` gives. */
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
