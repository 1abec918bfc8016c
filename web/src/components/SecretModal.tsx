import { useState, type ReactNode } from 'react';
import { Modal } from './Modal';

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
