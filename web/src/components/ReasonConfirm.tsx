import { useState, type ReactNode } from 'react';
import { Field } from './Field';
import { Confirm } from './Modal';

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
