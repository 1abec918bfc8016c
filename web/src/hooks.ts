import { useCallback, useEffect, useRef, useState } from 'react';

/** Loads data when `deps` change; `reload()` fetches again. Stale answers are dropped. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on in `deps`
  useEffect(() => {
    const mine = ++current.current;
    setLoading(true);
    load()
      .then((value) => {
        if (mine !== current.current) return;
        setData(value);
        setError(null);
      })
      .catch((failure: unknown) => mine === current.current && setError(failure))
      .finally(() => mine === current.current && setLoading(false));
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** Calls `tick` every `ms` while `active`. */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => saved.current(), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
}

/**
 * Calls `settled` once when `running` turns false. The last poll asks for a job and its list
 * at the same moment; the list may have been read just before the job finished.
 */
export function useSettled(running: boolean, settled: () => void): void {
  const was = useRef(running);
  const saved = useRef(settled);
  saved.current = settled;
  useEffect(() => {
    if (was.current && !running) saved.current();
    was.current = running;
  }, [running]);
}
