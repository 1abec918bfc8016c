// Pieces the agent and admin views share: running a change with a confirmation and a result
// message, paged collections, times, and the one-time secret dialog.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Role } from '../api';
import { inWords } from './Feedback';
import { Field } from './Field';
import { Confirm, Modal } from './Modal';
import { formatDate } from '../format';

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

export const isNotFound = (error: unknown) => error instanceof ApiError && error.status === 404;

/** Asks before a change that cannot be undone, with an optional reason kept in the audit log. */
export function ReasonConfirm({
  title,
  confirmLabel,
  children,
  busy,
  danger = true,
  onConfirm,
  onClose,
}: {
  title: string;
  confirmLabel: string;
  children: ReactNode;
  busy: boolean;
  danger?: boolean;
  onConfirm: (reason: string) => void;
  onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  return (
    <Confirm
      title={title}
      confirmLabel={confirmLabel}
      danger={danger}
      busy={busy}
      onConfirm={() => onConfirm(reason.trim())}
      onClose={onClose}
    >
      <div className="ops-confirm">{children}</div>
      <Field label="Reason (optional)" hint="Kept in the audit log with your name.">
        {(props) => <textarea {...props} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
    </Confirm>
  );
}

/** A timestamp in the viewer's locale; `precise` adds seconds (for timelines). */
export function Time({ at, precise }: { at: string | null | undefined; precise?: boolean }) {
  if (!at) return <span className="muted">—</span>;
  const text = precise
    ? new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
    : formatDate(at);
  return (
    <time dateTime={at} title={new Date(at).toISOString()}>
      {text}
    </time>
  );
}

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

/** Shows a secret (API key, one-time password) once, with a copy button. */
export function SecretModal({
  title,
  secret,
  children,
  onClose,
}: {
  title: string;
  secret: string;
  children: ReactNode;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  }
  return (
    <Modal title={title} onClose={onClose}>
      <div className="alert warn">
        <span>{children} It won&apos;t be shown again.</span>
      </div>
      <p className="secret">{secret}</p>
      <p className="muted" aria-live="polite">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'no'
            ? 'Copying is not allowed here: select the text and copy it by hand.'
            : ''}
      </p>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="primary" onClick={onClose}>
          I have saved it
        </button>
      </div>
    </Modal>
  );
}

/** A tag-like badge for a role. */
export const roleLabel = (role: string) => role.charAt(0).toUpperCase() + role.slice(1);

/** A "Role" select offering `roles` in that order. */
export function RoleSelect({
  value,
  onChange,
  roles,
  hint,
}: {
  value: Role;
  onChange: (role: Role) => void;
  roles: Role[];
  hint: ReactNode;
}) {
  return (
    <Field label="Role" hint={hint}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.target.value as Role)}>
          {roles.map((role) => (
            <option key={role} value={role}>
              {roleLabel(role)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
