// The outcome of a change an operator makes: `useAction` runs it, `NoticeBar` says how it went.
import { useCallback, useState } from 'react';
import { inWords } from './Feedback';

export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

/** Runs one change at a time and remembers how it went, for a message on the page. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const run = useCallback(
    async <T,>(change: () => Promise<T>, success: string | ((result: T) => string)): Promise<T | undefined> => {
      setBusy(true);
      setNotice(null);
      try {
        const result = await change();
        setNotice({ kind: 'ok', text: typeof success === 'function' ? success(result) : success });
        return result;
      } catch (failure) {
        setNotice({ kind: 'error', text: inWords(failure) });
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [],
  );
  return { busy, notice, setNotice, run };
}
export type Action = ReturnType<typeof useAction>;

/** The result of the last change: green when it worked, red with the reason when it did not. */
export function NoticeBar({ notice, onDismiss }: { notice: Notice | null; onDismiss: () => void }) {
  if (!notice) return null;
  return (
    <div
      className={`alert ${notice.kind === 'ok' ? 'ok' : 'error'}`}
      role={notice.kind === 'error' ? 'alert' : undefined}
      aria-live="polite"
    >
      <span>{notice.text}</span>
      <button type="button" className="secondary small" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
